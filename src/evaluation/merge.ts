/**
 * merge(a, b): the statistics of both batches together. Counts add exactly; float64 sums add
 * (exact up to their rounding); exact AP/AUROC states concatenate their rows. Statistics made with
 * different options (classes, top-k, bins, confusion form, thresholds) do not merge.
 */
import { ConflictError } from '../errors.js'
import type { BinaryStats, CalibrationStats, ConfusionStats, CurveStats, MetricStats, MulticlassStats, MultilabelStats } from './types.js'

function add (a: Float64Array, b: Float64Array, what: string): Float64Array {
  if (a.length !== b.length) incompatible(`${what} sizes ${a.length} and ${b.length}`)
  const out = new Float64Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) + (b[i] as number)
  return out
}

function incompatible (what: string): never {
  throw new ConflictError(`metric statistics do not merge: ${what} differ`)
}

function calibration (a: CalibrationStats, b: CalibrationStats): CalibrationStats {
  if (a.bins !== b.bins) incompatible(`calibration bins ${a.bins} and ${b.bins}`)
  return { bins: a.bins, count: add(a.count, b.count, 'bin'), confidence: add(a.confidence, b.confidence, 'bin'), accuracy: add(a.accuracy, b.accuracy, 'bin') }
}

function confusion (a: ConfusionStats | undefined, b: ConfusionStats | undefined): ConfusionStats | undefined {
  if (a === undefined || b === undefined) {
    if (a !== b) incompatible('confusion forms')
    return undefined
  }
  if (a.form === 'dense' && b.form === 'dense') return { form: 'dense', counts: add(a.counts, b.counts, 'confusion') }
  if (a.form === 'sparse' && b.form === 'sparse') {
    const counts = new Map(a.counts)
    for (const [cell, n] of b.counts) counts.set(cell, (counts.get(cell) ?? 0) + n)
    return { form: 'sparse', counts }
  }
  return incompatible(`confusion forms ${a.form} and ${b.form}`)
}

function curve (a: CurveStats, b: CurveStats): CurveStats {
  if (a.kind === 'exact' && b.kind === 'exact') {
    const logits = new Float32Array(a.logits.length + b.logits.length)
    logits.set(a.logits)
    logits.set(b.logits, a.logits.length)
    const positive = new Uint8Array(a.positive.length + b.positive.length)
    positive.set(a.positive)
    positive.set(b.positive, a.positive.length)
    return { kind: 'exact', rows: a.rows + b.rows, logits, positive }
  }
  if (a.kind === 'binned' && b.kind === 'binned' && a.thresholds === b.thresholds) {
    return { kind: 'binned', thresholds: a.thresholds, counts: add(a.counts, b.counts, 'threshold') }
  }
  return incompatible('AP/AUROC thresholds')
}

function multiclass (a: MulticlassStats, b: MulticlassStats): MulticlassStats {
  if (a.classes !== b.classes) incompatible(`classes ${a.classes} and ${b.classes}`)
  if (a.topk.length !== b.topk.length || a.topk.some((k, i) => k !== b.topk[i])) incompatible(`topk [${a.topk.join(', ')}] and [${b.topk.join(', ')}]`)
  return {
    kind: 'multiclass',
    classes: a.classes,
    rows: a.rows + b.rows,
    topk: a.topk,
    hits: add(a.hits, b.hits, 'topk'),
    target: add(a.target, b.target, 'class'),
    predicted: add(a.predicted, b.predicted, 'class'),
    correct: add(a.correct, b.correct, 'class'),
    calibration: calibration(a.calibration, b.calibration),
    brier: a.brier + b.brier,
    confusion: confusion(a.confusion, b.confusion)
  }
}

function multilabel (a: MultilabelStats, b: MultilabelStats): MultilabelStats {
  if (a.classes !== b.classes) incompatible(`classes ${a.classes} and ${b.classes}`)
  return {
    kind: 'multilabel',
    classes: a.classes,
    rows: a.rows + b.rows,
    tp: add(a.tp, b.tp, 'class'),
    fp: add(a.fp, b.fp, 'class'),
    fn: add(a.fn, b.fn, 'class'),
    curve: curve(a.curve, b.curve)
  }
}

function binary (a: BinaryStats, b: BinaryStats): BinaryStats {
  return {
    kind: 'binary',
    rows: a.rows + b.rows,
    tp: a.tp + b.tp,
    fp: a.fp + b.fp,
    tn: a.tn + b.tn,
    fn: a.fn + b.fn,
    calibration: calibration(a.calibration, b.calibration),
    brier: a.brier + b.brier,
    curve: curve(a.curve, b.curve)
  }
}

export function merge (a: MetricStats, b: MetricStats): MetricStats {
  if (a.kind === 'multiclass' && b.kind === 'multiclass') return multiclass(a, b)
  if (a.kind === 'multilabel' && b.kind === 'multilabel') return multilabel(a, b)
  if (a.kind === 'binary' && b.kind === 'binary') return binary(a, b)
  return incompatible(`kinds ${a.kind} and ${b.kind}`)
}
