/**
 * A run's state with metrics: the metric statistics merge with the run's other statistics (the first
 * batch's are taken as they are) and survive the stored form (src/dataplane/runs/state.ts) bit for bit,
 * so a run answers the statistics of its concatenated batches.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { collect, merge } from '../../../src/evaluation/stats.js'
import { encodeStats } from '../../../src/evaluation/codec.js'
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

function filled (): RunState {
  const u = mulberry32(7)
  const state = emptyState(C, ['ce', 'focal ✓'])
  state.classCounts.forEach((_, c, a) => { a[c] = c * 3 })
  for (const [name, totals] of Object.entries(state.losses)) {
    totals.sum = u() * 1e3
    totals.normalizer = 91
    totals.classSums.forEach((_, c, a) => { a[c] = u() / 3 })
    state.hardest[name] = [
      { batch: 'rank0-step1', index: 4, label: 2, loss: u() * 9 },
      { batch: 'rank1-step2', index: [3, 15], label: 0, loss: u() }
    ]
  }
  state.metrics = collect(input(4, 12, 'softmax'), 'softmax', -100, metricsOptions({ thresholds: 20 }, C, (f) => f), undefined)
  return state
}

test('the stored state is binary and gives back every field bit for bit', () => {
  const state = filled()
  const bytes = encodeState(state)
  assert.deepEqual([...bytes.subarray(0, 4)], [0x4c, 0x53, 0x52, 2])
  assert.deepEqual(decodeState(bytes), state)
  assert.throws(() => decodeState(bytes.subarray(0, bytes.length - 3)), /run statistics are truncated/)
  assert.throws(() => decodeState(Uint8Array.of(0x4c, 0x53, 0x52, 9)), /run statistics are corrupt/)
})

test('a batch delta is written sparse: only the classes of its rows, -0 and NaN kept', () => {
  const classes = 400
  const delta = emptyState(classes, ['ce', 'focal'])
  for (const c of [0, 17, 399]) delta.classCounts[c] = 64 + c
  const sums = delta.losses.ce?.classSums as Float64Array
  sums[0] = 1.25e-300; sums[17] = -0; sums[399] = NaN
  const bytes = encodeState(delta)
  const dense = 8 * classes * 3
  assert.ok(bytes.length < 160, `${bytes.length} bytes against ${dense} dense`)
  const read = decodeState(bytes)
  assert.deepEqual(read, delta)
  assert.ok(Object.is(read.losses.ce?.classSums[17], -0))
})

test('a state written by version 1 (every vector raw f64) is read as it was written', () => {
  const state = filled()
  state.metrics = undefined
  const parts: number[] = [0x4c, 0x53, 0x52, 1]
  const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(...b) }
  const f64 = (v: number) => { const b = Buffer.alloc(8); b.writeDoubleLE(v); parts.push(...b) }
  const f64s = (a: Float64Array) => { u32(a.length); a.forEach(f64) }
  const text = (t: string) => { const b = Buffer.from(t); u32(b.length); parts.push(...b) }
  u32(state.classes); f64s(state.classCounts); u32(2)
  for (const [name, totals] of Object.entries(state.losses)) {
    text(name); f64(totals.sum); f64(totals.normalizer); f64s(totals.classSums)
    const rows = state.hardest[name] ?? []
    u32(rows.length)
    for (const row of rows) {
      text(row.batch)
      if (typeof row.index === 'number') { parts.push(0); u32(row.index) } else { parts.push(1); u32(row.index[0]); u32(row.index[1]) }
      const b = Buffer.alloc(4); b.writeInt32LE(row.label); parts.push(...b)
      f64(row.loss)
    }
  }
  parts.push(0)
  assert.deepEqual(decodeState(Uint8Array.from(parts)), state)
})

test('a state stored as JSON by an earlier version is read as it was written', () => {
  const state = filled()
  const b64 = (a: Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64')
  const json = Buffer.from(JSON.stringify({
    classes: state.classes,
    classCounts: b64(state.classCounts),
    losses: Object.fromEntries(Object.entries(state.losses).map(([name, t]) => [name, { sum: t.sum, normalizer: t.normalizer, classSums: b64(t.classSums) }])),
    hardest: state.hardest,
    metrics: Buffer.from(encodeStats(state.metrics as NonNullable<RunState['metrics']>)).toString('base64')
  }))
  const read = decodeState(json)
  assert.deepEqual(read, state)
  assert.deepEqual(decodeState(encodeState(read)), state, 'and written back in the binary form')
})
