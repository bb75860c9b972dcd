/**
 * Every golden case (test/golden/cases.json, from PyTorch 1.13 / torchvision 0.14 in float64) through
 * HTTP and directly on the loss functions, on every installed tfjs backend.
 *
 * Tolerance: |actual - expected| <= ATOL + RTOL * |expected|, per number. RTOL covers float32
 * arithmetic (PyTorch's own float32 results are up to 3.3e-7 off in scalars, 5.9e-5 in `none` elements
 * where BCE cancels, test/golden/README.md); ATOL covers values that are 0 in float32 but 1e-9 in float64.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { crossEntropy, focalLoss, type LossResult } from '../src/losses/index.js'
import { crossEntropyOptions, decodeInput, encodeResult, focalOptions } from '../src/wire/json.js'
import type { CrossEntropyBody, FocalBody } from '../src/schemas/loss.js'
import { BACKENDS, build } from './helper.js'
import { flatten, materialize } from './golden/inputs.js'

export const RTOL = 2e-5
export const ATOL = 1e-6

export interface GoldenCase {
  name: string
  endpoint: 'ce' | 'focal'
  request: Record<string, unknown>
  expected: { loss: unknown, sum: number, normalizer: number }
  reference: string
}

interface Summary { count: number, shape: number[], sum: number, sumAbs: number, max: number, sample: Array<[number, number]> }

export function loadCases (file: string): GoldenCase[] {
  return (JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as { cases: GoldenCase[] }).cases
}

/** Largest |actual - expected| / max(|expected|, ATOL / RTOL) seen, per backend, for the report. */
const worst = { relative: 0, name: '' }

export function close (actual: unknown, expected: number, what: string): void {
  assert.equal(typeof actual, 'number', `${what}: expected a number, got ${JSON.stringify(actual)}`)
  const a = actual as number
  const error = Math.abs(a - expected)
  assert.ok(error <= ATOL + RTOL * Math.abs(expected), `${what}: ${a} vs ${expected} (|d| = ${error.toExponential(2)})`)
  const relative = error / Math.max(Math.abs(expected), ATOL / RTOL)
  if (relative > worst.relative) Object.assign(worst, { relative, name: what })
}

/** Compares a reply ({loss, sum, normalizer}) with the expected values of a case. */
export function checkReply (reply: { loss: unknown, sum: unknown, normalizer: unknown }, c: GoldenCase, via: string): void {
  const what = `${c.name} via ${via}`
  assert.equal(reply.normalizer, c.expected.normalizer, `${what}: normalizer`)
  close(reply.sum, c.expected.sum, `${what}: sum`)
  const loss = c.expected.loss
  if (loss === null) {
    assert.equal(reply.loss, null, `${what}: loss`)
  } else if (typeof loss === 'number') {
    close(reply.loss, loss, `${what}: loss`)
  } else {
    const got = flatten(reply.loss)
    const summary = (loss as { $summary?: Summary }).$summary
    if (summary === undefined) {
      const want = flatten(loss)
      assert.equal(got.length, want.length, `${what}: none length`)
      want.forEach((w, i) => close(got[i], w, `${what}: loss[${i}]`))
    } else {
      assert.equal(got.length, summary.count, `${what}: none length`)
      for (const [i, w] of summary.sample) close(got[i], w, `${what}: loss[${i}]`)
      close(got.reduce((m, v) => Math.max(m, v), -Infinity), summary.max, `${what}: max`)
    }
  }
}

export function direct (c: GoldenCase, body: Record<string, unknown>): LossResult {
  const input = decodeInput(body as { logits: unknown, labels: unknown })
  return c.endpoint === 'ce'
    ? crossEntropy(input, crossEntropyOptions(body as CrossEntropyBody))
    : focalLoss(input, focalOptions(body as FocalBody))
}

// temporal.json: [N][C][T] logits with [N][T] labels, against F.cross_entropy on (N, C, T) input.
const cases = [...loadCases('./golden/cases.json'), ...loadCases('./golden/temporal.json')]
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
      for (const c of cases) checkReply(encodeResult(direct(c, body(c))), c, `direct on ${backend}`)
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
