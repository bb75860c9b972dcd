/**
 * metricsOptions: defaults, and the exact message of every rejected option, in the caller's
 * spelling (identity for the JSON API, `parameters.<snake_case>` as V2 would pass).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { metricsOptions, type RawMetricsOptions } from '../../../src/evaluation/options.js'
import { InvalidInputError } from '../../../src/errors.js'

const json = (f: string): string => f
const v2 = (f: string): string => 'parameters.' + f.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())

function rejects (raw: RawMetricsOptions, classes: number, message: string, name = json): void {
  assert.throws(() => metricsOptions(raw, classes, name), (e: unknown) => {
    assert.ok(e instanceof InvalidInputError, String(e))
    assert.equal(e.message, message)
    return true
  })
}

test('defaults: top-1 and top-5 (only k <= C), 15 bins, no confusion, no shots, exact AP/AUROC', () => {
  const o = metricsOptions({}, 10, json)
  assert.deepEqual(o.topk, [1, 5])
  assert.equal(o.calibrationBins, 15)
  assert.equal(o.confusion, undefined)
  assert.equal(o.shots, undefined)
  assert.equal(o.thresholds, undefined)
  assert.deepEqual(metricsOptions({}, 4, json).topk, [1])
  assert.deepEqual(metricsOptions({}, 5, json).topk, [1, 5])
  assert.deepEqual(metricsOptions({ topk: [5, 2] }, 5, json).topk, [2, 5])
})

test('shots: defaults many 100, few 20; counts copied to float64', () => {
  const o = metricsOptions({ shots: { counts: [1, 2, 3] } }, 3, json)
  assert.deepEqual(o.shots, { counts: new Float64Array([1, 2, 3]), many: 100, few: 20 })
  assert.deepEqual(metricsOptions({ shots: { counts: [0, 0], many: 5, few: 1 } }, 2, json).shots?.many, 5)
})

test('rejected options name the field and the index', () => {
  rejects({ topk: [1, 7] }, 5, 'topk[1] = 7 is outside [1, 5]')
  rejects({ topk: [0] }, 5, 'topk[0] = 0 is outside [1, 5]')
  rejects({ topk: [1.5] }, 5, 'topk[0] = 1.5 must be an integer')
  rejects({ topk: [2, 3, 2] }, 5, 'topk[2] = 2 is repeated')
  rejects({ topk: [] }, 5, 'topk must not be empty')
  rejects({ calibrationBins: 0 }, 5, 'calibrationBins = 0 is outside [1, 10000]')
  rejects({ calibrationBins: 10001 }, 5, 'calibrationBins = 10001 is outside [1, 10000]')
  rejects({ calibrationBins: 2.5 }, 5, 'calibrationBins = 2.5 must be an integer')
  rejects({ confusion: 'full' }, 5, 'confusion = "full" must be "dense" or "sparse"')
  rejects({ thresholds: 1 }, 5, 'thresholds = 1 is outside [2, 10000]')
  rejects({ shots: { counts: [1, 2, 3] } }, 10, 'shots.counts has 3 values, expected 10 (one per class)')
  rejects({ shots: { counts: [1, 2, -1] } }, 3, 'shots.counts[2] = -1 must be >= 0')
  rejects({ shots: { counts: [1, 2, 3], many: 10 } }, 3, 'shots.many = 10 must be > shots.few = 20')
  rejects({ shots: { counts: [1, 2, 3], many: 20 } }, 3, 'shots.many = 20 must be > shots.few = 20')
})

test('messages use the caller\'s spelling (V2 parameters)', () => {
  rejects({ topk: [1, 7] }, 5, 'parameters.topk[1] = 7 is outside [1, 5]', v2)
  rejects({ calibrationBins: 0 }, 5, 'parameters.calibration_bins = 0 is outside [1, 10000]', v2)
  rejects({ shots: { counts: [1, 2, -1] } }, 3, 'parameters.shots.counts[2] = -1 must be >= 0', v2)
  rejects({ shots: { counts: [1, 2, 3], many: 10 } }, 3, 'parameters.shots.many = 10 must be > parameters.shots.few = 20', v2)
})
