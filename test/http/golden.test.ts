/**
 * Every golden case (test/golden/cases.json and temporal.json, from PyTorch 1.13 / torchvision 0.14 in
 * float64) through HTTP and directly on the loss functions, on every installed tfjs backend, within
 * the tolerance stated in golden-check.ts.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { crossEntropy, focalLoss, type LossResult } from '../../src/losses/index.js'
import { crossEntropyOptions, decodeInput, focalOptions } from '../../src/wire/json/request.js'
import { encodeLoss } from '../../src/wire/json/reply.js'
import type { CrossEntropyBody, FocalBody } from '../../schemas/loss.js'
import { BACKENDS, build } from '../helper.js'
import { materialize } from '../golden/inputs.js'
import { checkReply, loadCases, worst, type GoldenCase } from '../golden/check.js'

function direct (c: GoldenCase, body: Record<string, unknown>): LossResult {
  const input = decodeInput(body as { logits: unknown, labels: unknown })
  return c.endpoint === 'ce'
    ? crossEntropy(input, crossEntropyOptions(body as CrossEntropyBody))
    : focalLoss(input, focalOptions(body as FocalBody))
}

// temporal.json: [N][C][T] logits with [N][T] labels, against F.cross_entropy on (N, C, T) input.
const cases = [...loadCases('../golden/cases.json'), ...loadCases('../golden/temporal.json')]
const bodies = new Map(cases.map((c) => [c.name, materialize(c.request) as Record<string, unknown>]))
const body = (c: GoldenCase): Record<string, unknown> => bodies.get(c.name) ?? {}

test('the fixtures cover every endpoint and activation', () => {
  const kinds = new Set(cases.map((c) => `${c.endpoint}/${(c.request.activation as string | undefined) ?? 'softmax'}`))
  assert.deepEqual([...kinds].sort(), ['ce/sigmoid', 'ce/softmax', 'focal/sigmoid', 'focal/softmax'])
  assert.ok(cases.length >= 250, `${cases.length} cases`)
  assert.ok(cases.filter((c) => Array.isArray(c.request.logits) && Array.isArray((c.request.logits as unknown[][])[0]?.[0])).length >= 40, 'temporal cases')
})

for (const backend of BACKENDS) {
  describe(`golden cases on ${backend}`, () => {
    let app: FastifyInstance
    let tensorsBefore = 0
    after(async () => {
      await app.close()
      assert.equal(tf.memory().numTensors, tensorsBefore, 'tensors leaked')
    })

    test('HTTP', async (t) => {
      Object.assign(worst, { relative: 0, name: '' })
      app = await build(backend)
      tensorsBefore = tf.memory().numTensors
      for (const c of cases) {
        const res = await app.inject({ method: 'POST', url: `/loss/${c.endpoint}`, payload: body(c) })
        assert.equal(res.statusCode, 200, `${c.name}: ${res.body.slice(0, 300)}`)
        checkReply(res.json(), c, `HTTP on ${backend}`)
      }
      t.diagnostic(`${cases.length} golden cases via HTTP on ${backend}; largest relative error ${worst.relative.toExponential(2)} (${worst.name})`)
    })

    test('loss functions', (t) => {
      for (const c of cases) checkReply(encodeLoss({ name: c.endpoint, result: direct(c, body(c)), perClass: undefined, hardest: undefined }, undefined), c, `direct on ${backend}`)
      t.diagnostic(`${cases.length} golden cases direct on ${backend}; largest relative error ${worst.relative.toExponential(2)} (${worst.name})`)
    })

    test('focal with gamma 0 and alpha null equals cross-entropy', async () => {
      const plain = cases.filter((c) => c.endpoint === 'ce' && c.request.weight === undefined && c.request.posWeight === undefined)
      assert.ok(plain.length > 50)
      for (const c of plain) {
        const focal = await app.inject({ method: 'POST', url: '/loss/focal', payload: { ...body(c), gamma: 0, alpha: null } })
        assert.equal(focal.statusCode, 200, focal.body)
        checkReply(focal.json(), c, `focal(gamma 0, alpha null) on ${backend}`)
      }
    })
  })
}
