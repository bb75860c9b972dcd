/**
 * Sigmoid statistics: multi-label [N, C] (index labels one-hot encoded, as the losses do; ignored
 * rows dropped) and binary [N]. p = σ(x) in float64; a prediction is positive when p > 0.5 and a
 * target when t >= 0.5 (torchmetrics wants targets in {0, 1}; soft targets are binarised there).
 */
import type { Layout } from '../losses/checks.js'
import type { LossInput } from '../losses/types.js'
import { bucket, linspace32 } from './bins.js'
import type { MetricsOptions } from './options.js'
import { calibrationStats, type BinaryStats, type CurveStats, type MultilabelStats } from './types.js'

export function sigmoid (x: number): number {
  return 1 / (1 + Math.exp(-x))
}

/** σ(x) > 0.5 without an exp where the sign decides it (σ rounds to 0.5 only for 0 <= x < 2^-52). */
function positive (x: number): boolean {
  return x > 1e-12 || (x > 0 && sigmoid(x) > 0.5)
}

/** Builds the AP/AUROC state of `classes` columns, one row at a time. */
class CurveBuilder {
  private readonly grid: Float64Array
  private readonly counts: Float64Array | undefined
  private readonly logits: Float32Array | undefined
  private readonly positive: Uint8Array | undefined
  private readonly width: number
  private n = 0

  constructor (private readonly classes: number, rows: number, private readonly thresholds: number | undefined) {
    this.width = (thresholds ?? 0) + 1
    this.grid = linspace32(thresholds ?? 1)
    if (thresholds === undefined) {
      this.logits = new Float32Array(rows * classes)
      this.positive = new Uint8Array(rows * classes)
    } else {
      this.counts = new Float64Array(classes * this.width * 2)
    }
  }

  /** A row of `classes` logits from `x[base]` and its targets (0 or 1) in `t[0..classes)`. */
  addRow (x: Float32Array, base: number, t: Uint8Array): void {
    const { classes } = this
    if (this.counts === undefined) {
      (this.logits as Float32Array).set(x.subarray(base, base + classes), this.n);
      (this.positive as Uint8Array).set(t.subarray(0, classes), this.n)
      this.n += classes
      return
    }
    const { counts, grid, width } = this
    for (let c = 0; c < classes; c++) {
      // The number of thresholds <= p: torchmetrics' `preds >= thresholds` for each of them.
      const j = ((c * width) + bucket(sigmoid(x[base + c] as number), grid) + 1) * 2 + (t[c] as number)
      counts[j] = (counts[j] as number) + 1
    }
  }

  finish (rows: number): CurveStats {
    if (this.counts !== undefined) return { kind: 'binned', thresholds: this.thresholds as number, counts: this.counts }
    const size = rows * this.classes
    return { kind: 'exact', rows, logits: (this.logits as Float32Array).subarray(0, size), positive: (this.positive as Uint8Array).subarray(0, size) }
  }
}

export function collectMultilabel (input: LossInput, layout: Layout, ignoreIndex: number, options: MetricsOptions): MultilabelStats {
  const { classes, rows } = layout
  const x = input.logits
  const { labels } = input
  const index = labels.kind === 'index' ? labels.data : undefined
  const dense = labels.kind === 'dense' ? labels.data : undefined
  const tp = new Float64Array(classes)
  const fp = new Float64Array(classes)
  const fn = new Float64Array(classes)
  const curve = new CurveBuilder(classes, rows, options.thresholds)
  const t = new Uint8Array(classes)
  let kept = 0
  for (let r = 0; r < rows; r++) {
    const base = r * classes
    if (index !== undefined) {
      const y = index[r] as number
      if (y === ignoreIndex) continue
      t.fill(0)
      t[y] = 1
    } else {
      for (let c = 0; c < classes; c++) t[c] = ((dense as Float32Array)[base + c] as number) >= 0.5 ? 1 : 0
    }
    kept++
    for (let c = 0; c < classes; c++) {
      if (positive(x[base + c] as number)) {
        if (t[c] === 1) tp[c] = (tp[c] as number) + 1
        else fp[c] = (fp[c] as number) + 1
      } else if (t[c] === 1) {
        fn[c] = (fn[c] as number) + 1
      }
    }
    curve.addRow(x, base, t)
  }
  return { kind: 'multilabel', classes, rows: kept, tp, fp, fn, curve: curve.finish(kept) }
}

/**
 * [N] logits with [N] targets. Calibration bins fround(p) on the float32 grid, the confidence of
 * BinaryCalibrationError being p itself (not max(p, 1 - p)) and its accuracy the target.
 */
export function collectBinary (input: LossInput, layout: Layout, options: MetricsOptions): BinaryStats {
  const { rows } = layout
  const x = input.logits
  const t = input.labels.data
  const calibration = calibrationStats(options.calibrationBins)
  const grid = linspace32(options.calibrationBins + 1)
  const curve = new CurveBuilder(1, rows, options.thresholds)
  const target = new Uint8Array(1)
  let tp = 0
  let fp = 0
  let tn = 0
  let fn = 0
  let brier = 0
  for (let r = 0; r < rows; r++) {
    const v = x[r] as number
    const p = sigmoid(v)
    const y = (t[r] as number) >= 0.5 ? 1 : 0
    if (p > 0.5) {
      if (y === 1) tp++
      else fp++
    } else if (y === 1) fn++
    else tn++
    brier += (p - y) * (p - y)
    const conf = Math.fround(p)
    const b = bucket(conf, grid)
    calibration.count[b] = (calibration.count[b] as number) + 1
    calibration.confidence[b] = (calibration.confidence[b] as number) + conf
    calibration.accuracy[b] = (calibration.accuracy[b] as number) + y
    target[0] = y
    curve.addRow(x, r, target)
  }
  return { kind: 'binary', rows, tp, fp, tn, fn, calibration, brier, curve: curve.finish(rows) }
}
