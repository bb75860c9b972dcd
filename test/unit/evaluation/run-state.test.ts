/**
 * A run's state with metrics: the metric statistics merge with the run's other statistics (the first
 * batch's are taken as they are) and survive the stored form (src/dataplane/runs/state.ts) bit for bit,
 * so a run answers the statistics of its concatenated batches.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { collect, merge } from '../../../src/evaluation/stats.js'
import { metricsOptions } from '../../../src/evaluation/options.js'
import { decodeState, emptyState, encodeState, mergeState, type RunState } from '../../../src/dataplane/runs/state.js'
import type { LossInput } from '../../../src/losses/types.js'
import { mulberry32 } from '../../../scripts/lib/random.js'

const C = 7

function input (seed: number, n: number, activation: 'softmax' | 'sigmoid'): LossInput {
  const u = mulberry32(seed)
  const logits = Float32Array.from({ length: n * C }, () => Math.round((u() - 0.5) * 24) / 4)
  return activation === 'softmax'
    ? { logits, shape: [n, C], labels: { kind: 'index', data: Int32Array.from({ length: n }, (_, i) => i % 5 === 0 ? -100 : Math.floor(u() * C)), shape: [n] } }
    : { logits, shape: [n, C], labels: { kind: 'dense', data: Float32Array.from({ length: n * C }, () => u() < 0.3 ? 1 : 0), shape: [n, C] } }
}

for (const activation of ['softmax', 'sigmoid'] as const) {
  test(`a run's ${activation} metric statistics merge batch by batch and round-trip the stored state`, () => {
    const options = metricsOptions({ confusion: activation === 'softmax' ? 'sparse' : undefined, thresholds: 50, topk: activation === 'softmax' ? [1, 3] : undefined }, C, (f) => f)
    const batches = [input(1, 9, activation), input(2, 1, activation), input(3, 30, activation)]
    const stats = batches.map((b) => collect(b, activation, -100, options, undefined))
    let state: RunState = decodeState(encodeState(emptyState(C, ['ce'])))
    assert.equal(state.metrics, undefined, 'no statistics before the first batch')
    for (const s of stats) {
      const delta = emptyState(C, ['ce'])
      delta.metrics = s
      state = decodeState(encodeState(mergeState(state, delta, 0)))
    }
    assert.deepEqual(state.metrics, stats.reduce((a, b) => merge(a, b)))
  })
}
