/**
 * Metric values from the statistics, with torchmetrics 1.2.0's definitions. Where torchmetrics
 * divides 0 by 0 it mostly answers 0 (`_safe_divide`), and so do we; where it answers NaN the
 * report says null. Every number is a float64 computed from exact counts and float64 sums.
 */
import { linspace32 } from './bins.js'
import { classCurves, type ClassCurve } from './curves.js'
import type { MetricsOptions } from './options.js'
import { shotGroups, type ShotGroups } from './shots.js'
import type { BinaryStats, CalibrationStats, MetricStats, MulticlassStats, MultilabelStats } from './types.js'

export interface ReliabilityBin {
  readonly lower: number
  readonly upper: number
  readonly count: number
  /** Mean confidence and accuracy of the bin's rows; null for an empty bin. */
  readonly confidence: number | null
  readonly accuracy: number | null
}

export interface Calibration {
  readonly ece: number | null
  readonly mce: number
  readonly rmsce: number
  readonly reliability: ReliabilityBin[]
}

export interface MulticlassReport extends Calibration {
  readonly kind: 'multiclass'
  readonly rows: number
  readonly accuracy: number
  readonly topk: Record<string, number>
  readonly meanClassAccuracy: number
  readonly brier: number | null
  readonly confusion?: number[][]
  readonly shots?: ShotGroups
}

export interface MultilabelReport {
  readonly kind: 'multilabel'
  readonly rows: number
  readonly precision: number
  readonly recall: number
  readonly f1: number
  readonly microF1: number
  readonly mAP: number | null
  readonly auroc: number | null
}

export interface BinaryReport extends Calibration {
  readonly kind: 'binary'
  readonly rows: number
  readonly accuracy: number
  readonly ap: number | null
  readonly auroc: number | null
  readonly brier: number | null
}

export type MetricsReport = MulticlassReport | MultilabelReport | BinaryReport

const safe = (a: number, b: number): number => b === 0 ? 0 : a / b

/**
 * `_ce_compute` over the bins + 1 accumulators: ece = Σ prop·|acc - conf| (NaN, so null, with no
 * rows), mce = max |acc - conf| (empty bins count as 0), rmsce = sqrt(Σ prop·(acc - conf)²), and 0
 * when that sum is not > 0 (torchmetrics' `torch.sqrt(ce) if ce > 0 else 0`, also for no rows).
 * The reliability diagram lists the bins [b_i, b_i+1) and, when it holds rows, the extra bin [1, 1]
 * that torchmetrics keeps for confidence exactly 1 (bucketize right=True past the last boundary).
 */
export function calibration (stats: CalibrationStats): Calibration {
  const { bins, count, confidence, accuracy } = stats
  const grid = linspace32(bins + 1)
  let total = 0
  for (let b = 0; b <= bins; b++) total += count[b] as number
  let ece = 0
  let mce = 0
  let l2 = 0
  const reliability: ReliabilityBin[] = []
  for (let b = 0; b <= bins; b++) {
    const n = count[b] as number
    const conf = n > 0 ? (confidence[b] as number) / n : null
    const acc = n > 0 ? (accuracy[b] as number) / n : null
    const gap = Math.abs((acc ?? 0) - (conf ?? 0))
    const prop = n / total
    ece += gap * prop
    l2 += gap * gap * prop
    if (gap > mce) mce = gap
    if (b < bins || n > 0) {
      reliability.push({ lower: grid[b] as number, upper: grid[Math.min(b + 1, bins)] as number, count: n, confidence: conf, accuracy: acc })
    }
  }
  return { ece: total > 0 ? ece : null, mce, rmsce: l2 > 0 ? Math.sqrt(l2) : 0, reliability }
}

function multiclass (stats: MulticlassStats, options: MetricsOptions, perClassLoss?: Readonly<Record<string, Float64Array>>): MulticlassReport {
  const { rows, classes, target, predicted, correct } = stats
  let hits = 0
  let weights = 0
  let macro = 0
  for (let c = 0; c < classes; c++) {
    const tp = correct[c] as number
    hits += tp
    // _adjust_weights_safe_divide: a class neither in the targets nor predicted has weight 0.
    if ((target[c] as number) > 0 || (predicted[c] as number) > 0) {
      weights++
      macro += safe(tp, target[c] as number)
    }
  }
  const topk: Record<string, number> = {}
  stats.topk.forEach((k, i) => { topk[String(k)] = safe(stats.hits[i] as number, rows) })
  const { ece, mce, rmsce, reliability } = calibration(stats.calibration)
  // Written out, not spread: on Node 20's V8 a spread followed by more properties costs microseconds.
  const report: Mutable<MulticlassReport> = {
    kind: 'multiclass',
    rows,
    accuracy: safe(hits, rows),
    topk,
    meanClassAccuracy: safe(macro, weights),
    ece,
    mce,
    rmsce,
    reliability,
    brier: rows > 0 ? stats.brier / rows : null
  }
  if (stats.confusion !== undefined) report.confusion = confusionList(stats)
  if (options.shots !== undefined) report.shots = shotGroups(stats, options.shots, perClassLoss)
  return report
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** Dense: C rows of C counts (rows true, columns predicted). Sparse: [true, predicted, count] for every non-zero cell, in row-major order. */
function confusionList (stats: MulticlassStats): number[][] {
  const { classes } = stats
  const confusion = stats.confusion
  if (confusion === undefined) return []
  if (confusion.form === 'dense') {
    const out: number[][] = []
    for (let t = 0; t < classes; t++) out.push(Array.from(confusion.counts.subarray(t * classes, (t + 1) * classes)))
    return out
  }
  return [...confusion.counts.entries()]
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([cell, n]) => [Math.floor(cell / classes), cell % classes, n])
}

function multilabel (stats: MultilabelStats): MultilabelReport {
  const { classes, tp, fp, fn } = stats
  let precision = 0
  let recall = 0
  let f1 = 0
  let stp = 0
  let sfp = 0
  let sfn = 0
  for (let c = 0; c < classes; c++) {
    const a = tp[c] as number
    const b = fp[c] as number
    const d = fn[c] as number
    // Multilabel macro averages weight every label 1, even one never seen (multilabel=True).
    precision += safe(a, a + b)
    recall += safe(a, a + d)
    f1 += safe(2 * a, 2 * a + d + b)
    stp += a
    sfp += b
    sfn += d
  }
  const { mAP, auroc } = curveMeans(stats)
  return {
    kind: 'multilabel',
    rows: stats.rows,
    precision: precision / classes,
    recall: recall / classes,
    f1: f1 / classes,
    microF1: safe(2 * stp, 2 * stp + sfn + sfp),
    mAP,
    auroc
  }
}

/** Macro means over the classes whose value is not NaN (torchmetrics `_reduce_*`); null when none is. */
function curveMeans (stats: MultilabelStats): { mAP: number | null, auroc: number | null } {
  let ap = 0
  let apN = 0
  let auroc = 0
  let aurocN = 0
  for (const curve of classCurves(stats.curve, stats.classes)) {
    if (curve.ap !== null) { ap += curve.ap; apN++ }
    if (curve.auroc !== null) { auroc += curve.auroc; aurocN++ }
  }
  return { mAP: apN > 0 ? ap / apN : null, auroc: aurocN > 0 ? auroc / aurocN : null }
}

function binary (stats: BinaryStats): BinaryReport {
  const curve = classCurves(stats.curve, 1)[0] as ClassCurve
  const { ece, mce, rmsce, reliability } = calibration(stats.calibration)
  return {
    kind: 'binary',
    rows: stats.rows,
    accuracy: safe(stats.tp + stats.tn, stats.rows),
    ece,
    mce,
    rmsce,
    reliability,
    ap: curve.ap,
    auroc: curve.auroc,
    brier: stats.rows > 0 ? stats.brier / stats.rows : null
  }
}

export function computeMetrics (stats: MetricStats, options: MetricsOptions, perClassLoss?: Readonly<Record<string, Float64Array>>): MetricsReport {
  if (stats.kind === 'multiclass') return multiclass(stats, options, perClassLoss)
  if (stats.kind === 'multilabel') return multilabel(stats)
  return binary(stats)
}

export type PerClass =
  | { readonly kind: 'multiclass', readonly recall: Float64Array, readonly precision: Float64Array, readonly f1: Float64Array }
  | { readonly kind: 'multilabel' | 'binary', readonly ap: Array<number | null> }

/** For `breakdown`: MulticlassRecall / Precision / F1Score(average=None) (0 for 0/0, as torchmetrics), or per-class AP (null for a class with no positive). */
export function perClassMetrics (stats: MetricStats): PerClass {
  if (stats.kind === 'multiclass') {
    const { classes, target, predicted, correct } = stats
    const recall = new Float64Array(classes)
    const precision = new Float64Array(classes)
    const f1 = new Float64Array(classes)
    for (let c = 0; c < classes; c++) {
      const tp = correct[c] as number
      recall[c] = safe(tp, target[c] as number)
      precision[c] = safe(tp, predicted[c] as number)
      f1[c] = safe(2 * tp, (target[c] as number) + (predicted[c] as number))
    }
    return { kind: 'multiclass', recall, precision, f1 }
  }
  const classes = stats.kind === 'multilabel' ? stats.classes : 1
  return { kind: stats.kind, ap: classCurves(stats.curve, classes).map((c) => c.ap) }
}
