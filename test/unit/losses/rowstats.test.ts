/**
 * withRowStats: the softmax sums Σ e and Σ e² ride as two more heads of the losses' own call when its
 * last part reads the batch's logits, else as a part of their own; the losses' results stay bit for
 * bit what they are without, and the sums equal float64 ones to float32 rounding, also batched.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import { activate } from '../../../src/engine/backend.js'
import { Batcher } from '../../../src/engine/batcher.js'
import { planMany, run, withRowStats, type LossInput, type LossResult, type LossSpec, type RowStats } from '../../../src/losses/index.js'
import { mulberry32 } from '../../../scripts/lib/random.js'
import { BACKENDS } from '../../helper.js'
import { specOf } from './fixtures.js'

function batch (seed: number, n: number, c: number): LossInput {
  const u = mulberry32(seed)
  const logits = Float32Array.from({ length: n * c }, () => 8 * (2 * u() - 1))
  return { logits, shape: [n, c], labels: { kind: 'index', data: Int32Array.from({ length: n }, (_, i) => i % 5 === 4 ? -100 : Math.floor(c * u())), shape: [n] } }
}

const counts = (c: number): number[] => Array.from({ length: c }, (_, k) => 1000 - 90 * k)

function checkSums (input: LossInput, rows: RowStats): void {
  const [n, c] = input.shape as [number, number]
  for (let i = 0; i < n; i++) {
    let max = -Infinity
    for (let k = 0; k < c; k++) max = Math.max(max, input.logits[i * c + k] as number)
    let s = 0
    let q = 0
    for (let k = 0; k < c; k++) {
      const e = Math.exp((input.logits[i * c + k] as number) - max)
      s += e
      q += e * e
    }
    assert.ok(Math.abs((rows.sum[i] as number) - s) <= 4e-7 * s, `row ${i}: sum ${rows.sum[i]} vs ${s}`)
    assert.ok(Math.abs((rows.sumSq[i] as number) - q) <= 4e-7 * q, `row ${i}: sum of squares ${rows.sumSq[i]} vs ${q}`)
  }
}

const sameResults = (a: readonly LossResult[], b: readonly LossResult[]): void => a.forEach((r, i) => {
  assert.deepEqual(Array.from(r.values), Array.from((b[i] as LossResult).values))
  assert.equal(r.sum, (b[i] as LossResult).sum)
})

for (const backend of BACKENDS) {
  test(`row statistics beside the losses (${backend})`, async () => {
    await activate(backend)
    const before = tf.memory().numTensors
    const input = batch(1, 29, 10)
    const shared: LossSpec[] = [specOf('ce', { reduction: 'none' }), specOf('focal', { reduction: 'none', gamma: 2 })]
    const own: LossSpec[] = [...shared, specOf('ldam', { reduction: 'none', classCounts: counts(10) })]
    for (const [specs, shape] of [[shared, 'softmax-index with 4 heads'], [own, 'multi of 3 parts']] as const) {
      const plan = withRowStats(planMany(input, specs), input)
      const { call } = plan
      assert.equal(call.kind === 'multi' ? `multi of ${call.parts.length} parts` : `${call.kind} with ${call.heads.length} heads`, shape)
      const { value, rows } = run(plan)
      sameResults(value, run(planMany(input, specs)))
      checkSums(input, rows)
    }
    const inputs = [batch(2, 3, 10), batch(3, 8, 10)]
    const batcher = new Batcher({ maxRows: 1 << 16, waitMicros: 0 })
    const together = await Promise.all(inputs.map(async (x) => await batcher.submit(withRowStats(planMany(x, shared), x))))
    assert.equal(batcher.stats.calls, 1)
    together.forEach(({ value, rows }, i) => {
      const x = inputs[i] as LossInput
      sameResults(value, run(planMany(x, shared)))
      assert.deepEqual(rows, run(withRowStats(planMany(x, shared), x)).rows)
    })
    assert.equal(tf.memory().numTensors, before)
  })
}
