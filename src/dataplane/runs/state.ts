/**
 * What a run keeps of its batches: per loss the float64 sum and normalizer and the per-class sums,
 * the rows per class, the hardest rows so far, and (with metrics) the metric statistics. Every part
 * merges exactly (counts add, sums add in float64, hardest rows are the top k of the union), so the
 * result is the concatenation's whatever the order and the split of the batches. Its size depends on
 * the classes and k, never on the number of batches.
 */
import { Reader, Writer } from '../../evaluation/bytes.js'
import { decodeStats, encodeStats } from '../../evaluation/codec.js'
import { merge, type MetricStats } from '../../evaluation/stats.js'
import type { HardRow } from '../../losses/index.js'
import type { ScoreResult } from '../types.js'

/** A hardest row of a run: which batch and which row of it. */
export interface RunHardRow {
  readonly batch: string
  readonly index: HardRow['index']
  readonly label: number
  readonly loss: number
}

export interface LossTotals {
  sum: number
  normalizer: number
  /** Per class: the sum of the per-row losses of the rows of that class. */
  readonly classSums: Float64Array
}

export interface RunState {
  readonly classes: number
  /** Rows (frames, for temporal input) per class that count (ignored ones excluded). */
  readonly classCounts: Float64Array
  readonly losses: Record<string, LossTotals>
  readonly hardest: Record<string, RunHardRow[]>
  /** The metric statistics, for a run with metrics; undefined before its first batch. */
  metrics: MetricStats | undefined
}

export function emptyState (classes: number, losses: readonly string[]): RunState {
  return {
    classes,
    classCounts: new Float64Array(classes),
    losses: Object.fromEntries(losses.map((name) => [name, { sum: 0, normalizer: 0, classSums: new Float64Array(classes) }])),
    hardest: Object.fromEntries(losses.map((name) => [name, []])),
    metrics: undefined
  }
}

/** Largest loss first; equal losses by batch id, then row, so every merge order gives one list. */
function harder (a: RunHardRow, b: RunHardRow): number {
  if (a.loss !== b.loss) return b.loss - a.loss
  if (a.batch !== b.batch) return a.batch < b.batch ? -1 : 1
  const [ai, at] = typeof a.index === 'number' ? [a.index, 0] : a.index
  const [bi, bt] = typeof b.index === 'number' ? [b.index, 0] : b.index
  return ai - bi || at - bt
}

/** The top k of two lists. */
export function topHardest (a: readonly RunHardRow[], b: readonly RunHardRow[], k: number): RunHardRow[] {
  return [...a, ...b].sort(harder).slice(0, k)
}

function addInto (into: Float64Array, from: Float64Array): void {
  if (into.length !== from.length) throw new Error(`cannot merge statistics of ${from.length} classes into ${into.length}`)
  for (let c = 0; c < into.length; c++) into[c] = (into[c] as number) + (from[c] as number)
}

/** `b` merged into `a` (which is changed and returned). */
export function mergeState (a: RunState, b: RunState, k: number): RunState {
  addInto(a.classCounts, b.classCounts)
  for (const [name, totals] of Object.entries(b.losses)) {
    const into = a.losses[name]
    if (into === undefined) throw new Error(`the run has no loss named ${name}`)
    into.sum += totals.sum
    into.normalizer += totals.normalizer
    addInto(into.classSums, totals.classSums)
  }
  for (const [name, rows] of Object.entries(b.hardest)) a.hardest[name] = topHardest(a.hardest[name] ?? [], rows, k)
  if (b.metrics !== undefined) a.metrics = a.metrics === undefined ? b.metrics : merge(a.metrics, b.metrics)
  return a
}

/** One scored batch as a run's statistics; the result must carry per-class totals (breakdown). */
export function batchState (result: ScoreResult, classes: number, batch: string): RunState {
  const state = emptyState(classes, result.losses.map((l) => l.name))
  result.losses.forEach((scored, i) => {
    const totals = state.losses[scored.name] as LossTotals
    totals.sum = scored.result.sum
    totals.normalizer = scored.result.normalizer
    const perClass = scored.perClass
    if (perClass === undefined) throw new Error('a run batch is scored with breakdown')
    for (const c of perClass) {
      totals.classSums[c.class] = c.sum
      if (i === 0) state.classCounts[c.class] = c.count
    }
    state.hardest[scored.name] = (scored.hardest ?? []).map((row) => ({ batch, index: row.index, label: row.label, loss: row.loss }))
  })
  state.metrics = result.metrics?.stats
  return state
}

/** A run's state as stored (src/store/types.ts RunRecord): its folded state with its pending deltas merged in. */
export function currentState (state: Uint8Array, pending: readonly Uint8Array[], k: number): RunState {
  const into = decodeState(state)
  for (const delta of pending) mergeState(into, decodeState(delta), k)
  return into
}

/** `deltas` (encoded batch states) folded into `state` (an encoded run state), keeping the `k` hardest rows. */
export function foldStates (state: Uint8Array, deltas: readonly Uint8Array[], k: number): Uint8Array {
  return encodeState(currentState(state, deltas, k))
}

/*
 * The bytes a store keeps: "LSR" + version 2, then the fields in a fixed order; the rows per class
 * and the per-class sums as sums (src/evaluation/bytes.ts), every double bit for bit, dense ones
 * as a copy of their bytes. A batch's delta touches only the classes of its rows, so its vectors
 * are mostly zeros and written sparse; a run's state, once most classes were seen, is written
 * dense. Version 1 wrote every
 * vector as raw f64; a state that starts with "{" is the JSON form earlier versions stored (float64
 * arrays as base64). Both are read, and folded states are written in version 2.
 */

const MAGIC = [0x4c, 0x53, 0x52]
const VERSION = 2

export function encodeState (state: RunState): Uint8Array {
  const names = Object.keys(state.losses)
  const metrics = state.metrics === undefined ? undefined : encodeStats(state.metrics)
  const w = new Writer(256 + 8 * state.classes * (names.length + 1) + (metrics?.length ?? 0))
  for (const b of MAGIC) w.u8(b)
  w.u8(VERSION)
  w.u32(state.classes)
  w.sums(state.classCounts)
  w.u32(names.length)
  for (const name of names) {
    const totals = state.losses[name] as LossTotals
    w.text(name); w.f64(totals.sum); w.f64(totals.normalizer); w.sums(totals.classSums)
    const rows = state.hardest[name] ?? []
    w.u32(rows.length)
    for (const row of rows) {
      w.text(row.batch)
      if (typeof row.index === 'number') { w.u8(0); w.u32(row.index) } else { w.u8(1); w.u32(row.index[0]); w.u32(row.index[1]) }
      w.i32(row.label); w.f64(row.loss)
    }
  }
  if (metrics === undefined) w.u8(0)
  else { w.u8(1); w.u32(metrics.length); w.bytes(metrics) }
  return w.done()
}

export function decodeState (bytes: Uint8Array): RunState {
  if (bytes[0] === 0x7b) return decodeJsonState(bytes)
  const r = new Reader(bytes, 'run statistics')
  for (const b of MAGIC) if (r.u8() !== b) r.corrupt()
  const version = r.u8()
  if (version !== 1 && version !== VERSION) r.corrupt()
  const vector = version === 1 ? () => r.f64s() : () => r.sums()
  const classes = r.u32()
  const classCounts = vector()
  const losses: Record<string, LossTotals> = {}
  const hardest: Record<string, RunHardRow[]> = {}
  for (let n = r.u32(); n > 0; n--) {
    const name = r.text()
    losses[name] = { sum: r.f64(), normalizer: r.f64(), classSums: vector() }
    const rows: RunHardRow[] = []
    for (let k = r.u32(); k > 0; k--) {
      const batch = r.text()
      const index: RunHardRow['index'] = r.u8() === 0 ? r.u32() : [r.u32(), r.u32()]
      rows.push({ batch, index, label: r.i32(), loss: r.f64() })
    }
    hardest[name] = rows
  }
  const metrics = r.u8() === 0 ? undefined : decodeStats(r.bytes(r.u32()))
  r.end()
  return { classes, classCounts, losses, hardest, metrics }
}

const f64 = (text: string): Float64Array => new Float64Array(new Uint8Array(Buffer.from(text, 'base64')).buffer)

interface JsonState {
  classes: number
  classCounts: string
  losses: Record<string, { sum: number, normalizer: number, classSums: string }>
  hardest: Record<string, RunHardRow[]>
  metrics?: string
}

function decodeJsonState (bytes: Uint8Array): RunState {
  const stored = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as JsonState
  return {
    classes: stored.classes,
    classCounts: f64(stored.classCounts),
    losses: Object.fromEntries(Object.entries(stored.losses).map(([name, t]) => [name, { sum: t.sum, normalizer: t.normalizer, classSums: f64(t.classSums) }])),
    hardest: stored.hardest,
    metrics: stored.metrics === undefined ? undefined : decodeStats(new Uint8Array(Buffer.from(stored.metrics, 'base64')))
  }
}
