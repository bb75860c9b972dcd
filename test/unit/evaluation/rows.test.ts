/**
 * Row-level rules the golden cases cannot pin down: top-k ties that straddle the k-th place (torch
 * picks among them in no documented order; we take the lowest indices), temporal frames as rows,
 * probability labels by argmax, and the shot groups' arithmetic.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { collect, computeMetrics, type MulticlassStats } from '../../../src/evaluation/stats.js'
import { metricsOptions } from '../../../src/evaluation/options.js'
import type { MulticlassReport } from '../../../src/evaluation/report.js'
import type { LossInput } from '../../../src/losses/types.js'

const index = (logits: number[][], y: number[]): LossInput => ({
  logits: new Float32Array(logits.flat()),
  shape: [logits.length, (logits[0] as number[]).length],
  labels: { kind: 'index', data: new Int32Array(y), shape: [y.length] }
})

test('a tie across the k-th place: the lower class indices are in the top k', () => {
  const options = metricsOptions({ topk: [1, 2, 3] }, 4, (f) => f)
  // Classes 0..2 tie; the top 2 are {0, 1}, so target 2 is a top-3 hit only.
  const stats = collect(index([[5, 5, 5, 0], [5, 5, 5, 0], [5, 5, 5, 0]], [0, 1, 2]), 'softmax', -100, options) as MulticlassStats
  assert.deepEqual(Array.from(stats.hits), [1, 2, 3])
  assert.deepEqual(Array.from(stats.predicted), [3, 0, 0, 0])
})

test('temporal [N, C, T]: every frame is a sample, ignored frames skipped', () => {
  // N = 1, C = 2, T = 3: frame t has logits (x[0][t], x[1][t]).
  const input: LossInput = {
    logits: new Float32Array([2, 0, 0, 0, 1, 3]),
    shape: [1, 2, 3],
    labels: { kind: 'index', data: new Int32Array([0, -100, 1]), shape: [1, 3] }
  }
  const stats = collect(input, 'softmax', -100, metricsOptions({}, 2, (f) => f)) as MulticlassStats
  assert.equal(stats.rows, 2)
  assert.deepEqual(Array.from(stats.correct), [1, 1])
})

test('probability labels: the class is the argmax of the target row (first on ties)', () => {
  const input: LossInput = {
    logits: new Float32Array([0, 1, 1, 0]),
    shape: [2, 2],
    labels: { kind: 'dense', data: new Float32Array([0.5, 0.5, 0.2, 0.8]), shape: [2, 2] }
  }
  const stats = collect(input, 'softmax', -100, metricsOptions({}, 2, (f) => f)) as MulticlassStats
  assert.deepEqual(Array.from(stats.target), [1, 1])
  assert.deepEqual(Array.from(stats.correct), [0, 0])
})

test('shot groups: OLTR accuracy over present classes, row accuracy and mean losses', () => {
  const options = metricsOptions({ shots: { counts: [200, 150, 50, 5], many: 100, few: 20 } }, 4, (f) => f)
  // Rows: class 0 right, class 0 wrong, class 1 right, class 3 wrong; class 2 absent.
  const input = index([[9, 0, 0, 0], [0, 9, 0, 0], [0, 9, 0, 0], [9, 0, 0, 0]], [0, 0, 1, 3])
  const report = computeMetrics(collect(input, 'softmax', -100, options), options, { ce: new Float64Array([3, 5, 0, 7]) }) as MulticlassReport
  assert.deepEqual(report.shots, {
    many: { classes: 2, rows: 3, accuracy: (0.5 + 1) / 2, rowAccuracy: 2 / 3, ce: 8 / 3 },
    medium: { classes: 1, rows: 0, accuracy: null, rowAccuracy: null, ce: null },
    few: { classes: 1, rows: 1, accuracy: 0, rowAccuracy: 0, ce: 7 }
  })
})
