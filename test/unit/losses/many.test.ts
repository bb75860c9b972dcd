/**
 * planMany: losses sharing their inputs become heads of one call, the others parts of a multi call,
 * and every result equals the loss planned alone, bit for bit, also through the dynamic batcher.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import { activate } from '../../../src/engine/backend.js'
import { Batcher } from '../../../src/engine/batcher.js'
import { planLoss, planMany, run, type LossInput, type LossResult, type LossSpec } from '../../../src/losses/index.js'
import { mulberry32 } from '../../../scripts/lib/random.js'
import { BACKENDS } from '../../helper.js'
import { specOf } from './fixtures.js'

function batch (seed: number, n: number, c: number, dense: boolean): LossInput {
  const u = mulberry32(seed)
  const logits = Float32Array.from({ length: n * c }, () => 8 * (2 * u() - 1))
  const labels = dense
    ? { kind: 'dense' as const, data: Float32Array.from({ length: n * c }, () => u() < 0.2 ? 1 : 0), shape: [n, c] }
    : { kind: 'index' as const, data: Int32Array.from({ length: n }, (_, i) => i % 5 === 4 ? -100 : Math.floor(c * u() ** 3)), shape: [n] }
  return { logits, shape: [n, c], labels }
}

const counts = (c: number): number[] => Array.from({ length: c }, (_, k) => Math.round(1000 * 0.01 ** (k / (c - 1))))

function softmaxSpecs (c: number): LossSpec[] {
  return [
    specOf('ce', { reduction: 'none' }),
    specOf('focal', { reduction: 'none', gamma: 2 }),
    specOf('poly', { reduction: 'none', epsilon: 2 }),
    specOf('poly', { reduction: 'none', base: 'focal', gamma: 0.5 }),
    specOf('ce', { reduction: 'none', labelSmoothing: 0.1 }),
    specOf('poly', { reduction: 'none', labelSmoothing: 0.1 }),
    specOf('logit_adjusted', { reduction: 'none', classCounts: counts(c) }),
    specOf('ldam', { reduction: 'none', classCounts: counts(c) }),
    specOf('seesaw', { reduction: 'none', classCounts: counts(c) })
  ]
}

function sigmoidSpecs (): LossSpec[] {
  return [
    specOf('ce', { activation: 'sigmoid', reduction: 'none' }),
    specOf('focal', { activation: 'sigmoid', reduction: 'none' }),
    specOf('poly', { activation: 'sigmoid', reduction: 'none', base: 'focal' }),
    specOf('asymmetric', { activation: 'sigmoid', reduction: 'none' }),
    specOf('poly', { activation: 'sigmoid', reduction: 'none', labelSmoothing: 0.2 })
  ]
}

function sameBits (a: LossResult, b: LossResult, what: string): void {
  assert.deepEqual(Array.from(a.values), Array.from(b.values), what)
  assert.equal(a.sum, b.sum, what)
  assert.equal(a.normalizer, b.normalizer, what)
}

for (const backend of BACKENDS) {
  test(`planMany equals each loss planned alone, bit for bit (${backend})`, async () => {
    await activate(backend)
    const before = tf.memory().numTensors
    // Raw-logit losses share a call per kernel kind and targets (a Poly-1 loss is two heads: its
    // base and its epsilon term, the base computed once when another loss has the same head: ce and
    // poly's ce, sigmoid focal and poly's focal); losses on modified logits have their own.
    const cases = [
      { input: batch(1, 37, 10, false), specs: softmaxSpecs(10), heads: [5, 2, 1, 1, 1] },
      { input: batch(2, 23, 6, true), specs: sigmoidSpecs(), heads: [4, 2] }
    ]
    for (const { input, specs, heads } of cases) {
      const plan = planMany(input, specs)
      const together = run(plan)
      specs.forEach((s, i) => sameBits(together[i] as LossResult, run(planLoss(input, s)), `${s.kind} #${i}`))
      assert.equal(plan.call.kind, 'multi')
      if (plan.call.kind === 'multi') assert.deepEqual(plan.call.parts.map((p) => p.heads.length), heads)
    }
    const one = planMany(batch(3, 4, 5, false), softmaxSpecs(5).slice(0, 4))
    assert.equal(one.call.kind, 'softmax-index')
    assert.equal(tf.memory().numTensors, before)
  })

  test(`batched many-loss plans equal unbatched ones, bit for bit (${backend})`, async () => {
    await activate(backend)
    const plans = (): Array<ReturnType<typeof planMany>> => [3, 8, 5].map((n, i) => planMany(batch(10 + i, n, 10, false), softmaxSpecs(10)))
    const alone = plans().map((p) => run(p))
    const batcher = new Batcher({ maxRows: 1 << 16, waitMicros: 0 })
    const together = await Promise.all(plans().map(async (p) => await batcher.submit(p)))
    assert.equal(batcher.stats.calls, 1)
    together.forEach((results, i) => results.forEach((r, k) => sameBits(r, (alone[i] as LossResult[])[k] as LossResult, `plan ${i} loss ${k}`)))
  })
}
