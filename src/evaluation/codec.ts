/**
 * A compact binary form of the statistics, for a database row: "LSM" + version byte, the kind,
 * then the fields in a fixed order. Arrays of integers (counts) keep their non-zero values as
 * varint (gap, value) pairs; any other array, and every sum, is f64. Exact AP/AUROC states keep
 * their float32 logits and one byte per target.
 */
import { invalid } from '../errors.js'
import { Reader, Writer } from './bytes.js'
import type { CalibrationStats, ConfusionStats, CurveStats, MetricStats } from './types.js'

const MAGIC = [0x4c, 0x53, 0x4d, 1]
const KINDS = ['multiclass', 'multilabel', 'binary'] as const

function writeCalibration (w: Writer, c: CalibrationStats): void {
  w.u32(c.bins); w.counts(c.count); w.counts(c.confidence); w.counts(c.accuracy)
}

function readCalibration (r: Reader): CalibrationStats {
  return { bins: r.u32(), count: r.counts(), confidence: r.counts(), accuracy: r.counts() }
}

function writeConfusion (w: Writer, c: ConfusionStats | undefined): void {
  if (c === undefined) { w.u8(0); return }
  if (c.form === 'dense') { w.u8(1); w.counts(c.counts); return }
  w.u8(2); w.u32(c.counts.size)
  let last = -1
  for (const cell of [...c.counts.keys()].sort((a, b) => a - b)) {
    w.varint(cell - last - 1); w.varint(c.counts.get(cell) as number)
    last = cell
  }
}

function readConfusion (r: Reader): ConfusionStats | undefined {
  const tag = r.u8()
  if (tag === 0) return undefined
  if (tag === 1) return { form: 'dense', counts: r.counts() }
  if (tag !== 2) r.corrupt()
  const counts = new Map<number, number>()
  let cell = -1
  for (let k = r.u32(); k > 0; k--) {
    cell += r.varint() + 1
    counts.set(cell, r.varint())
  }
  return { form: 'sparse', counts }
}

function writeCurve (w: Writer, c: CurveStats): void {
  if (c.kind === 'binned') { w.u8(1); w.u32(c.thresholds); w.counts(c.counts); return }
  w.u8(0); w.u32(c.rows); w.u32(c.logits.length)
  w.bytes(new Uint8Array(c.logits.buffer, c.logits.byteOffset, c.logits.byteLength))
  w.bytes(c.positive)
}

function readCurve (r: Reader): CurveStats {
  const tag = r.u8()
  if (tag === 1) return { kind: 'binned', thresholds: r.u32(), counts: r.counts() }
  if (tag !== 0) r.corrupt()
  const rows = r.u32()
  const n = r.u32()
  const logits = new Float32Array(r.bytes(4 * n).buffer)
  return { kind: 'exact', rows, logits, positive: r.bytes(n) }
}

export function encodeStats (stats: MetricStats): Uint8Array {
  const w = new Writer()
  for (const b of MAGIC) w.u8(b)
  w.u8(KINDS.indexOf(stats.kind))
  if (stats.kind === 'multiclass') {
    w.u32(stats.classes); w.f64(stats.rows)
    w.u32(stats.topk.length)
    for (const k of stats.topk) w.u32(k)
    w.counts(stats.hits); w.counts(stats.target); w.counts(stats.predicted); w.counts(stats.correct)
    writeCalibration(w, stats.calibration); w.f64(stats.brier); writeConfusion(w, stats.confusion)
  } else if (stats.kind === 'multilabel') {
    w.u32(stats.classes); w.f64(stats.rows)
    w.counts(stats.tp); w.counts(stats.fp); w.counts(stats.fn); writeCurve(w, stats.curve)
  } else {
    w.f64(stats.rows); w.f64(stats.tp); w.f64(stats.fp); w.f64(stats.tn); w.f64(stats.fn)
    writeCalibration(w, stats.calibration); w.f64(stats.brier); writeCurve(w, stats.curve)
  }
  return w.done()
}

export function decodeStats (bytes: Uint8Array): MetricStats {
  const r = new Reader(bytes, 'metric statistics')
  for (const b of MAGIC) if (r.u8() !== b) invalid('metric statistics: unknown format')
  const kind = KINDS[r.u8()]
  let stats: MetricStats
  if (kind === 'multiclass') {
    const classes = r.u32()
    const rows = r.f64()
    const topk: number[] = []
    for (let n = r.u32(); n > 0; n--) topk.push(r.u32())
    stats = { kind, classes, rows, topk, hits: r.counts(), target: r.counts(), predicted: r.counts(), correct: r.counts(), calibration: readCalibration(r), brier: r.f64(), confusion: readConfusion(r) }
  } else if (kind === 'multilabel') {
    stats = { kind, classes: r.u32(), rows: r.f64(), tp: r.counts(), fp: r.counts(), fn: r.counts(), curve: readCurve(r) }
  } else if (kind === 'binary') {
    stats = { kind, rows: r.f64(), tp: r.f64(), fp: r.f64(), tn: r.f64(), fn: r.f64(), calibration: readCalibration(r), brier: r.f64(), curve: readCurve(r) }
  } else {
    return invalid('metric statistics: unknown kind')
  }
  r.end()
  return stats
}
