/**
 * Issue 10's losses through V2, on every installed tfjs backend: every golden case of
 * test/golden/losses.json through its model, as binary and as JSON tensors, answers exactly the
 * loss, sum and normalizer of POST /loss/<route> (which losses.test.ts holds to the fixtures); the
 * five-loss compare through the `losses` parameter answers exactly the JSON API's numbers, output by
 * output; the models are listed and described.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { BACKENDS, build, post, suiteApp } from '../helper.js'
import { flatten, materialize } from '../golden/inputs.js'
import { loadCases, type GoldenCase } from '../golden/check.js'
import { asLossReply, binaryRequest, infer, jsonRequest } from './v2/client.js'
import { inferTyped, shapeOf } from './v2/golden.js'
import { lossToV2 } from './v2/losses.js'
import { FIVE, FIVE_BODY, ROUTE } from './losses-cases.js'

type LossCase = GoldenCase & { loss: string }
const cases = loadCases('../golden/losses.json') as LossCase[]

test('the models are served and described', async () => {
  const app = await build()
  try {
    const missing = await app.inject({ url: '/v2/models/nope' })
    assert.match(missing.json().error, /the models are ce, focal, compare, poly, logit_adjusted, ldam, asymmetric, seesaw$/)
    for (const model of ['poly', 'logit_adjusted', 'ldam', 'asymmetric', 'seesaw']) {
      const meta = await app.inject({ url: `/v2/models/${model}` })
      assert.equal(meta.statusCode, 200, meta.body)
      assert.deepEqual(meta.json().outputs.slice(0, 3).map((o: { name: string }) => o.name), ['loss', 'sum', 'normalizer'])
      assert.equal((await app.inject({ url: `/v2/models/${model}/ready` })).statusCode, 200)
    }
  } finally {
    await app.close()
  }
})

for (const backend of BACKENDS) {
  describe(`issue 10's losses through V2 equal the JSON API on ${backend}`, () => {
    let app: FastifyInstance
    suiteApp((built) => { app = built }, backend)

    test('every golden case, binary and JSON tensors', async () => {
      for (const [i, c] of cases.entries()) {
        const body = materialize(c.request) as Record<string, unknown>
        const rest = await post(app, ROUTE[c.loss] ?? '', body)
        assert.equal(rest.status, 200, `${c.name}: ${JSON.stringify(rest.json)}`)
        const want = { loss: Array.isArray(rest.json.loss) ? flatten(rest.json.loss) : rest.json.loss, sum: rest.json.sum, normalizer: rest.json.normalizer }
        const { tensors: inputs, parameters } = lossToV2(body, i)
        const url = `/v2/models/${c.loss}/infer`
        const binary = await infer(app, binaryRequest(url, inputs, { parameters: { ...parameters, binary_data_output: true }, pad: i % 8 }))
        assert.equal(binary.status, 200, `${c.name}: ${JSON.stringify(binary.header)}`)
        assert.deepEqual(asLossReply(binary), want, `${c.name}: binary`)
        const json = await infer(app, jsonRequest(url, inputs, { parameters, nested: i % 2 === 0 }))
        assert.equal(json.status, 200, `${c.name}: ${JSON.stringify(json.header)}`)
        assert.deepEqual(asLossReply(json), want, `${c.name}: JSON tensors`)
        assert.deepEqual(json.outputs.get('loss')?.shape, rest.json.reduction === 'none' ? shapeOf(rest.json.loss) : [1], c.name)
      }
    })

    test('the five-loss compare through parameters.losses: every output is the JSON API\'s number', async () => {
      const rest = await post(app, '/loss/compare', FIVE_BODY)
      assert.equal(rest.status, 200, JSON.stringify(rest.json))
      const names = FIVE.map((e) => e.name ?? e.loss)
      const perClass = rest.json.perClass as Array<Record<string, any>>
      const vector = (name: string, values: unknown[], datatype = 'FP64'): unknown => ({ name, datatype, shape: [values.length], values })
      const want = [
        ...names.flatMap((n) => [
          vector(`${n}_loss`, [rest.json[n].loss]), vector(`${n}_sum`, [rest.json[n].sum]), vector(`${n}_normalizer`, [rest.json[n].normalizer])
        ]),
        vector('per_class_count', perClass.map((c) => c.count)),
        ...names.flatMap((n) => [vector(`${n}_per_class_sum`, perClass.map((c) => c[n].sum)), vector(`${n}_per_class_mean`, perClass.map((c) => c[n].mean))]),
        ...names.flatMap((n) => {
          const rows = rest.json[n].hardest as Array<{ index: number, label: number, loss: number }>
          return [vector(`${n}_hardest_index`, rows.map((r) => r.index), 'INT64'), vector(`${n}_hardest_label`, rows.map((r) => r.label), 'INT64'), vector(`${n}_hardest_loss`, rows.map((r) => r.loss))]
        })
      ]
      const { tensors: inputs, parameters } = lossToV2(FIVE_BODY, 0)
      for (const binary of [true, false]) {
        const reply = await inferTyped(app, (binary ? binaryRequest : jsonRequest)('/v2/models/compare/infer', inputs, { parameters: { ...parameters, binary_data_output: binary } }))
        assert.equal(reply.status, 200, JSON.stringify(reply.header))
        assert.deepEqual(reply.outputs, want, binary ? 'binary' : 'JSON')
      }
    })
  })
}
