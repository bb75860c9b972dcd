/**
 * A compact binary form of the statistics, for a database row: "LSM" + version byte, the kind,
 * then the fields in a fixed order. Arrays of integers (counts) keep their non-zero values as
 * varint (gap, value) pairs; any other array, and every sum, is f64. Exact AP/AUROC states keep
 * their float32 logits and one byte per target.
 */
import { invalid } from '../errors.js'
import type { CalibrationStats, ConfusionStats, CurveStats, MetricStats } from './types.js'

const MAGIC = [0x4c, 0x53, 0x4d, 1]
const KINDS = ['multiclass', 'multilabel', 'binary'] as const

class Writer {
  private buf = new ArrayBuffer(1024)
  private view = new DataView(this.buf)
  private at = 0

  private room (n: number): void {
    if (this.at + n <= this.buf.byteLength) return
    const bigger = new ArrayBuffer(Math.max(this.buf.byteLength * 2, this.at + n))
    new Uint8Array(bigger).set(new Uint8Array(this.buf, 0, this.at))
    this.buf = bigger
    this.view = new DataView(bigger)
  }

  u8 (v: number): void { this.room(1); this.view.setUint8(this.at, v); this.at += 1 }
  u32 (v: number): void { this.room(4); this.view.setUint32(this.at, v, true); this.at += 4 }
  f64 (v: number): void { this.room(8); this.view.setFloat64(this.at, v, true); this.at += 8 }
  bytes (v: Uint8Array): void { this.room(v.length); new Uint8Array(this.buf, this.at, v.length).set(v); this.at += v.length }

  /** Unsigned LEB128 of an integer in [0, 2^53), with arithmetic (bit operators stop at 2^31). */
  varint (v: number): void {
    let rest = v
    while (rest >= 128) {
      this.u8(rest % 128 + 128)
      rest = Math.floor(rest / 128)
    }
    this.u8(rest)
  }

  counts (a: Float64Array): void {
    if (!a.every((v) => Number.isSafeInteger(v) && v >= 0)) {
      this.u8(0); this.u32(a.length)
      for (const v of a) this.f64(v)
      return
    }
    // The non-zero values as (zeros skipped, value) varint pairs: most counts are small, many 0.
    let nonzero = 0
    for (const v of a) if (v !== 0) nonzero++
    this.u8(1); this.u32(a.length); this.u32(nonzero)
    let zeros = 0
    for (const v of a) {
      if (v === 0) { zeros++; continue }
      this.varint(zeros); this.varint(v)
      zeros = 0
    }
  }

  done (): Uint8Array { return new Uint8Array(this.buf, 0, this.at) }
}

class Reader {
  private readonly view: DataView
  private at = 0
  constructor (private readonly data: Uint8Array) { this.view = new DataView(data.buffer, data.byteOffset, data.byteLength) }

  private need (n: number): void { if (this.at + n > this.data.length) invalid('metric statistics are truncated') }
  u8 (): number { this.need(1); return this.view.getUint8(this.at++) }
  u32 (): number { this.need(4); const v = this.view.getUint32(this.at, true); this.at += 4; return v }
  f64 (): number { this.need(8); const v = this.view.getFloat64(this.at, true); this.at += 8; return v }
  bytes (n: number): Uint8Array { this.need(n); const v = this.data.slice(this.at, this.at + n); this.at += n; return v }

  varint (): number {
    let v = 0
    let scale = 1
    for (;;) {
      const b = this.u8()
      v += (b % 128) * scale
      if (b < 128) return v
      scale *= 128
      if (scale > 2 ** 56) invalid('metric statistics are corrupt')
    }
  }

  counts (): Float64Array {
    const tag = this.u8()
    const out = new Float64Array(this.u32())
    if (tag === 0) {
      for (let i = 0; i < out.length; i++) out[i] = this.f64()
    } else if (tag === 1) {
      let i = -1
      for (let k = this.u32(); k > 0; k--) {
        i += this.varint() + 1
        if (i >= out.length) invalid('metric statistics are corrupt')
        out[i] = this.varint()
      }
    } else {
      invalid('metric statistics are corrupt')
    }
    return out
  }

  end (): void { if (this.at !== this.data.length) invalid('metric statistics have trailing bytes') }
}

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
  if (tag !== 2) invalid('metric statistics are corrupt')
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
  if (tag !== 0) invalid('metric statistics are corrupt')
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
  const r = new Reader(bytes)
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
