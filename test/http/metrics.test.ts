/**
 * Every torchmetrics 1.2.0 case of test/golden/metrics.json (but the binned-threshold ones, a run
 * option) through POST /loss/compare with `metrics: true` and through V2 model compare with
 * `parameters.metrics = true`, on every installed tfjs backend: each equals the fixture within the
 * unit suite's tolerance, and JSON and V2 answer the same numbers.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { BACKENDS, build } from '../helper.js'
import { infer } from './v2/client.js'
import { cases, compare, expectedMetrics, jsonBody, perClassOf, v2Metrics, v2Request, worst } from './metrics-golden.js'

test('the HTTP metrics cases cover every kind, ignored rows, probability labels, temporal input and bin edges', () => {
  assert.deepEqual([...new Set(cases.map((c) => c.kind))].sort(), ['binary', 'multiclass', 'multilabel'])
  assert.ok(cases.some((c) => c.request.labelKind === 'dense' && c.kind === 'multiclass'), 'probability labels')
  assert.ok(cases.some((c) => c.onBinEdge > 0), 'confidences on bin edges')
  assert.ok(cases.some((c) => c.name.includes('ignore')), 'ignored rows')
  assert.ok(cases.some((c) => c.name.startsWith('temporal/') || c.name.startsWith('large/temporal/')), 'temporal input')
  assert.ok(cases.some((c) => c.request.options?.shots !== undefined), 'shot groups')
  assert.ok(cases.length >= 30, `${cases.length} cases`)
})

for (const backend of BACKENDS) {
  describe(`metrics golden cases on ${backend}`, () => {
    let app: FastifyInstance
    let tensorsBefore = 0
    after(async () => {
      await app.close()
      assert.equal(tf.memory().numTensors, tensorsBefore, 'tensors leaked')
    })

    test('JSON and V2 equal torchmetrics, and each other', async (t) => {
      Object.assign(worst, { error: 0, what: '' })
      app = await build(backend)
      tensorsBefore = tf.memory().numTensors
      for (const c of cases) {
        const res = await app.inject({ method: 'POST', url: '/loss/compare', payload: jsonBody(c) })
        assert.equal(res.statusCode, 200, `${c.name}: ${res.body.slice(0, 300)}`)
        const reply = res.json()
        const { kind, ...metrics } = reply.metrics
        assert.equal(kind, c.kind, c.name)
        const want = expectedMetrics(c, reply)
        // The generator stores reliability diagrams of at most 100 bins.
        if (!('reliability' in want)) delete metrics.reliability
        compare(metrics, want, `${c.name} JSON on ${backend}`)
        compare(perClassOf(reply), c.expected.perClass, `${c.name} JSON perClass on ${backend}`)

        const v2 = await infer(app, v2Request(c))
        assert.equal(v2.status, 200, `${c.name}: ${JSON.stringify(v2.header).slice(0, 300)}`)
        const { metrics: fromV2, perClass } = v2Metrics(v2)
        assert.deepEqual(fromV2, reply.metrics, `${c.name}: V2 metrics equal JSON's`)
        assert.deepEqual(perClass, perClassOf(reply), `${c.name}: V2 per-class metrics equal JSON's`)
      }
      t.diagnostic(`${cases.length} metrics cases via JSON and V2 on ${backend}; worst |d| / (1e-6 + 1e-5 |want|) = ${worst.error.toExponential(2)} at ${worst.what}`)
    })
  })
}
