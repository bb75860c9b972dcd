/**
 * The statistics are mergeable: for random batches split at random rows into k parts,
 * merge(collect(part 1), ..., collect(part k)) equals collect(whole) — counts exactly, float64 sums
 * to their rounding — in any order, and survives encodeStats / decodeStats unchanged.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { LossInput } from '../../../src/losses/types.js'
import { collect, computeMetrics, decodeStats, encodeStats, merge, type MetricStats } from '../../../src/evaluation/stats.js'
import { metricsOptions, type MetricsOptions } from '../../../src/evaluation/options.js'

interface Batch { input: LossInput, activation: 'softmax' | 'sigmoid', options: MetricsOptions }

const IGNORE = -100

/** Logits on a 1/4 grid in [-6, 6], so ties (and confidences on bin edges) are common. */
const logit = fc.integer({ min: -24, max: 24 }).map((v) => v / 4)

const batch: fc.Arbitrary<Batch> = fc.record({
  mode: fc.constantFrom('softmax-index', 'softmax-dense', 'temporal', 'multilabel-index', 'multilabel-dense', 'binary'),
  n: fc.integer({ min: 1, max: 24 }),
  classes: fc.integer({ min: 2, max: 6 }),
  frames: fc.integer({ min: 1, max: 4 }),
  seed: fc.array(logit, { minLength: 24 * 6 * 4, maxLength: 24 * 6 * 4 }),
  labels: fc.array(fc.integer({ min: -1, max: 5 }), { minLength: 24 * 4 * 6, maxLength: 24 * 4 * 6 }),
  bins: fc.integer({ min: 1, max: 20 }),
  confusion: fc.constantFrom(undefined, 'dense', 'sparse'),
  thresholds: fc.constantFrom(undefined, 2, 5, 17)
}).map(({ mode, n, classes, frames, seed, labels, bins, confusion, thresholds }) => {
  const shape = mode === 'binary' ? [n] : mode === 'temporal' ? [n, classes, frames] : [n, classes]
  const size = shape.reduce((a, b) => a * b, 1)
  const logits = new Float32Array(seed.slice(0, size))
  const rows = mode === 'temporal' ? n * frames : n
  const index = (): Int32Array => new Int32Array(labels.slice(0, rows).map((y) => y < 0 ? IGNORE : y % classes))
  const dense = (): Float32Array => new Float32Array(labels.slice(0, size).map((y) => (y + 1) / 6))
  const input: LossInput = mode === 'softmax-index' || mode === 'multilabel-index'
    ? { logits, shape, labels: { kind: 'index', data: index(), shape: [n] } }
    : mode === 'temporal'
      ? { logits, shape, labels: { kind: 'index', data: index(), shape: [n, frames] } }
      : { logits, shape, labels: { kind: 'dense', data: dense(), shape } }
  const c = mode === 'binary' ? 1 : classes
  const activation = mode.startsWith('softmax') || mode === 'temporal' ? 'softmax' as const : 'sigmoid' as const
  return { input, activation, options: metricsOptions({ calibrationBins: bins, confusion, thresholds, topk: c >= 2 ? [1, 2] : undefined }, c, (f) => f) }
})

/** Rows [a, b) of the batch (along N). */
function slice (input: LossInput, a: number, b: number): LossInput {
  const n = input.shape[0] as number
  const per = input.logits.length / n
  const perLabel = input.labels.data.length / n
  const shape = [b - a, ...input.shape.slice(1)]
  const labelShape = [b - a, ...input.labels.shape.slice(1)]
  const labels = input.labels.kind === 'index'
    ? { kind: 'index' as const, data: input.labels.data.slice(a * perLabel, b * perLabel), shape: labelShape }
    : { kind: 'dense' as const, data: input.labels.data.slice(a * perLabel, b * perLabel), shape: labelShape }
  return { logits: input.logits.slice(a * per, b * per), shape, labels }
}

const SUMS = new Set(['confidence', 'brier'])

/** Counts exactly; float64 sums (bin confidences, Brier) to 1e-12 relative. */
function same (got: unknown, want: unknown, path: string): void {
  if (want instanceof Map) {
    const g = got as Map<number, number>
    assert.deepEqual([...g.entries()].filter(([, v]) => v > 0).sort((x, y) => x[0] - y[0]), [...want.entries()].sort((x, y) => x[0] - y[0]), path)
  } else if (ArrayBuffer.isView(want) || Array.isArray(want)) {
    const w = Array.from(want as ArrayLike<number>)
    const g = Array.from(got as ArrayLike<number>)
    assert.equal(g.length, w.length, path)
    w.forEach((v, i) => same(g[i], v, `${path}[${i}]`))
  } else if (typeof want === 'number') {
    const last = path.replace(/\[\d+\]$/, '').split('.').pop() ?? ''
    if (SUMS.has(last)) assert.ok(Math.abs((got as number) - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${path}: ${String(got)} vs ${want}`)
    else assert.equal(got, want, path)
  } else if (want !== null && typeof want === 'object') {
    for (const k of Object.keys(want)) same((got as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], `${path}.${k}`)
  } else {
    assert.equal(got, want, path)
  }
}

function closeReports (got: unknown, want: unknown, path: string): void {
  if (typeof want === 'number') {
    assert.ok(typeof got === 'number' && Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${path}: ${String(got)} vs ${want}`)
  } else if (want !== null && typeof want === 'object') {
    assert.deepEqual(Object.keys(got as object).sort(), Object.keys(want).sort(), path)
    for (const k of Object.keys(want)) closeReports((got as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], `${path}.${k}`)
  } else {
    assert.equal(got, want, path)
  }
}

const split = fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 0, maxLength: 4 })

function parts (b: Batch, cuts: number[]): MetricStats[] {
  const n = b.input.shape[0] as number
  const at = [...new Set(cuts.map((c) => c % (n + 1)))].sort((x, y) => x - y)
  const bounds = [0, ...at.filter((c) => c > 0 && c < n), n]
  const out: MetricStats[] = []
  for (let i = 0; i + 1 < bounds.length; i++) out.push(collect(slice(b.input, bounds[i] as number, bounds[i + 1] as number), b.activation, IGNORE, b.options))
  return out
}

test('merge of the parts equals the whole batch, in order and reversed', () => {
  fc.assert(fc.property(batch, split, (b, cuts) => {
    const whole = collect(b.input, b.activation, IGNORE, b.options)
    const pieces = parts(b, cuts)
    const merged = pieces.reduce((acc, s) => merge(acc, s))
    same(merged, whole, 'stats')
    closeReports(computeMetrics(merged, b.options), computeMetrics(whole, b.options), 'report')
    const reversed = [...pieces].reverse().reduce((acc, s) => merge(acc, s))
    closeReports(computeMetrics(reversed, b.options), computeMetrics(whole, b.options), 'reversed report')
  }), { numRuns: 300 })
})

test('merging an empty part (all rows ignored) changes nothing', () => {
  fc.assert(fc.property(batch.filter((b) => b.input.labels.kind === 'index'), (b) => {
    const whole = collect(b.input, b.activation, IGNORE, b.options)
    const labels = { kind: 'index' as const, data: new Int32Array(b.input.labels.data.length).fill(IGNORE), shape: b.input.labels.shape }
    const empty = collect({ ...b.input, labels }, b.activation, IGNORE, b.options)
    same(merge(whole, empty), whole, 'stats')
  }), { numRuns: 100 })
})

test('encodeStats / decodeStats round-trip, also after merges', () => {
  fc.assert(fc.property(batch, split, (b, cuts) => {
    const merged = parts(b, cuts).reduce((acc, s) => merge(acc, s))
    const back = decodeStats(encodeStats(merged))
    assert.deepEqual(back, merged)
    closeReports(computeMetrics(back, b.options), computeMetrics(merged, b.options), 'report')
  }), { numRuns: 200 })
})

test('statistics of different options or kinds do not merge', () => {
  const input: LossInput = { logits: new Float32Array([1, 2, 3, 4]), shape: [2, 2], labels: { kind: 'index', data: new Int32Array([0, 1]), shape: [2] } }
  const opts = (raw: Parameters<typeof metricsOptions>[0]): MetricsOptions => metricsOptions(raw, 2, (f) => f)
  const a = collect(input, 'softmax', IGNORE, opts({}))
  assert.throws(() => merge(a, collect(input, 'softmax', IGNORE, opts({ calibrationBins: 10 }))), /do not merge: calibration bins 15 and 10 differ/)
  assert.throws(() => merge(a, collect(input, 'softmax', IGNORE, opts({ topk: [2] }))), /do not merge: topk \[1\] and \[2\] differ/)
  assert.throws(() => merge(a, collect(input, 'softmax', IGNORE, opts({ confusion: 'dense' }))), /do not merge: confusion forms differ/)
  assert.throws(() => merge(a, collect(input, 'sigmoid', IGNORE, opts({}))), /do not merge: kinds multiclass and multilabel differ/)
  const s = collect(input, 'sigmoid', IGNORE, opts({}))
  assert.throws(() => merge(s, collect(input, 'sigmoid', IGNORE, opts({ thresholds: 10 }))), /do not merge: AP\/AUROC thresholds differ/)
})

test('decodeStats refuses truncated, extended and foreign bytes', () => {
  const input: LossInput = { logits: new Float32Array([1, 2, 3, 4]), shape: [2, 2], labels: { kind: 'index', data: new Int32Array([0, 1]), shape: [2] } }
  const bytes = encodeStats(collect(input, 'softmax', IGNORE, metricsOptions({ confusion: 'sparse' }, 2, (f) => f)))
  assert.throws(() => decodeStats(bytes.subarray(0, bytes.length - 1)), /metric statistics are truncated/)
  assert.throws(() => decodeStats(new Uint8Array([...bytes, 0])), /metric statistics have trailing bytes/)
  assert.throws(() => decodeStats(new Uint8Array([1, 2, 3, 4, 0])), /metric statistics: unknown format/)
})
