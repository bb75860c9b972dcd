/**
 * Concurrent requests are merged into one tfjs call per signature; the results are bit-identical to
 * computing each request alone.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import { activate } from '../../../src/engine/backend.js'
import { Batcher } from '../../../src/engine/batcher.js'
import { planCrossEntropy, planFocal, run, type LossInput, type LossResult, type Plan } from '../../../src/losses/index.js'
import { mulberry32 } from '../../../scripts/lib/random.js'
import { BACKENDS, build } from '../../helper.js'

function batch (seed: number, n: number, c: number, dense = false): LossInput {
  const u = mulberry32(seed)
  const logits = Float32Array.from({ length: n * c }, () => 8 * (2 * u() - 1))
  const labels = dense
    ? { kind: 'dense' as const, data: Float32Array.from({ length: n * c }, () => u()), shape: [n, c] }
    : { kind: 'index' as const, data: Int32Array.from({ length: n }, (_, i) => i % 5 === 4 ? -100 : Math.floor(c * u() ** 3)), shape: [n] }
  return { logits, shape: [n, c], labels }
}

const common = { reduction: 'none' as const, ignoreIndex: -100, labelSmoothing: 0 }

function plans (): Array<Plan<LossResult>> {
  const out: Array<Plan<LossResult>> = []
  for (let i = 0; i < 6; i++) {
    out.push(planFocal(batch(i, 3 + i, 10), { ...common, activation: 'softmax', gamma: 2, alpha: 0.25 }))
    out.push(planCrossEntropy(batch(100 + i, 2 + i, 10), { ...common, activation: 'softmax', weight: Float32Array.from({ length: 10 }, (_, c) => 1 + c) }))
    out.push(planFocal(batch(200 + i, 4, 10, true), { ...common, activation: 'sigmoid', gamma: 0.5, alpha: i % 2 === 0 ? 0.25 : null }))
    out.push(planCrossEntropy(batch(300 + i, 4, 7, true), { ...common, activation: 'sigmoid', labelSmoothing: 0.1, posWeight: Float32Array.from({ length: 7 }, () => 1 + (i % 2)) }))
    out.push(planCrossEntropy(batch(400 + i, 5, 7), { ...common, activation: 'softmax', labelSmoothing: 0.2 }))
  }
  return out
}

for (const backend of BACKENDS) {
  test(`batched results equal unbatched ones, bit for bit (${backend})`, async () => {
    await activate(backend)
    const before = tf.memory().numTensors
    const alone = plans().map((p) => run(p))
    const batcher = new Batcher({ maxRows: 1 << 16, waitMicros: 0 })
    const together = await Promise.all(plans().map(async (p) => await batcher.submit(p)))
    // 30 plans in 5 signatures; sigmoid calls only merge when their per-class vectors are equal.
    assert.ok(batcher.stats.calls < 30 && batcher.stats.calls >= 5, `${batcher.stats.calls} calls`)
    assert.equal(batcher.stats.plans, 30)
    together.forEach((r, i) => {
      const a = alone[i]
      assert.ok(a !== undefined)
      assert.deepEqual(Array.from(r.values), Array.from(a.values), `plan ${i}`)
      assert.equal(r.sum, a.sum)
      assert.equal(r.normalizer, a.normalizer)
    })
    assert.equal(tf.memory().numTensors, before)
  })

  test(`the row bound splits large groups (${backend})`, async () => {
    await activate(backend)
    const batcher = new Batcher({ maxRows: 10, waitMicros: 0 })
    const inputs = [4, 4, 4, 4].map((n, i) => batch(i, n, 10))
    const options = { ...common, activation: 'softmax' as const, gamma: 2, alpha: 0.25 }
    const results = await Promise.all(inputs.map(async (input) => await batcher.submit(planFocal(input, options))))
    assert.equal(batcher.stats.calls, 2)
    results.forEach((r, i) => assert.deepEqual(Array.from(r.values), Array.from(run(planFocal(inputs[i] as LossInput, options)).values)))
  })

  test(`a failing plan fails alone (${backend})`, async () => {
    const app = await build(backend)
    const tensors = tf.memory().numTensors
    const good = { logits: [[1, 2, 3]], labels: [0] }
    const bad = { logits: [[3e38, -3e38, 0]], labels: [1] }
    const replies = await Promise.all([good, bad, good].map(async (payload) => await app.inject({ method: 'POST', url: '/loss/ce', payload })))
    assert.deepEqual(replies.map((r) => r.statusCode), [200, 422, 200])
    assert.equal(tf.memory().numTensors, tensors)
    await app.close()
  })
}
