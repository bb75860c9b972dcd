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

/** Builds the AP/AUROC state of `classes` columns, fed one element at a time. */
class CurveBuilder {
  private readonly grid: Float64Array | undefined
  private readonly counts: Float64Array | undefined
  private readonly logits: Float32Array | undefined
  private readonly positive: Uint8Array | undefined
  private readonly width: number
  private n = 0

  constructor (private readonly classes: number, rows: number, private readonly thresholds: number | undefined) {
    this.width = (thresholds ?? 0) + 1
    if (thresholds === undefined) {
      this.logits = new Float32Array(rows * classes)
      this.positive = new Uint8Array(rows * classes)
    } else {
      this.grid = linspace32(thresholds)
      this.counts = new Float64Array(classes * this.width * 2)
    }
  }

  add (c: number, x: number, p: number, t: number): void {
    if (this.counts !== undefined) {
      // The number of thresholds <= p: torchmetrics' `preds >= thresholds` for each of them.
      const j = ((c * this.width) + bucket(p, this.grid as Float64Array) + 1) * 2 + t
      this.counts[j] = (this.counts[j] as number) + 1
    } else {
      (this.logits as Float32Array)[this.n] = x;
      (this.positive as Uint8Array)[this.n] = t
      this.n++
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
  const tp = new Float64Array(classes)
  const fp = new Float64Array(classes)
  const fn = new Float64Array(classes)
  const curve = new CurveBuilder(classes, rows, options.thresholds)
  let kept = 0
  for (let r = 0; r < rows; r++) {
    const y = labels.kind === 'index' ? (labels.data[r] as number) : -1
    if (labels.kind === 'index' && y === ignoreIndex) continue
    kept++
    const base = r * classes
    for (let c = 0; c < classes; c++) {
      const v = x[base + c] as number
      const p = sigmoid(v)
      const t = labels.kind === 'index' ? (c === y ? 1 : 0) : ((labels.data[base + c] as number) >= 0.5 ? 1 : 0)
      if (p > 0.5) {
        if (t === 1) tp[c] = (tp[c] as number) + 1
        else fp[c] = (fp[c] as number) + 1
      } else if (t === 1) {
        fn[c] = (fn[c] as number) + 1
      }
      curve.add(c, v, p, t)
    }
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
    curve.add(0, v, p, y)
  }
  return { kind: 'binary', rows, tp, fp, tn, fn, calibration, brier, curve: curve.finish(rows) }
}
