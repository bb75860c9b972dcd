/**
 * Average precision and AUROC of one class, from every score (torchmetrics `thresholds=None`:
 * `_binary_clf_curve`, one curve point per distinct score, so tied scores move together) or from
 * binned counts (`thresholds=K`). Scores are σ(x) in float64; ties are equal σ values.
 */
import { sigmoid } from './sigmoid.js'
import type { CurveStats } from './types.js'

export interface ClassCurve {
  /** null where torchmetrics gives NaN: exact mode with no positive target (recall 0/0) or no rows. */
  readonly ap: number | null
  /** null for no rows; 0 when every target is one kind (torchmetrics' zero tpr / fpr). */
  readonly auroc: number | null
}

/**
 * Every class at once: one row-major pass scatters σ(x) into per-class runs of positives and
 * negatives (reading columns with stride C instead is several times slower), each run is sorted
 * natively (ascending, no comparator) and walked from the top, one curve point per distinct score.
 */
function exactCurves (curve: Extract<CurveStats, { kind: 'exact' }>, classes: number): ClassCurve[] {
  const { rows, logits, positive } = curve
  if (rows === 0) return Array.from({ length: classes }, () => ({ ap: null, auroc: null }))
  const positives = new Float64Array(classes)
  for (let i = 0, c = 0; i < positive.length; i++, c = c + 1 === classes ? 0 : c + 1) positives[c] = (positives[c] as number) + (positive[i] as number)
  // Class c owns [start[c], start[c] + rows): positives first, then negatives.
  const scores = new Float64Array(rows * classes)
  const nextPos = new Int32Array(classes)
  const nextNeg = new Int32Array(classes)
  for (let c = 0; c < classes; c++) {
    nextPos[c] = c * rows
    nextNeg[c] = c * rows + (positives[c] as number)
  }
  for (let i = 0, c = 0; i < positive.length; i++, c = c + 1 === classes ? 0 : c + 1) {
    const p = sigmoid(logits[i] as number)
    const next = positive[i] === 1 ? nextPos : nextNeg
    const at = next[c] as number
    scores[at] = p
    next[c] = at + 1
  }
  const out: ClassCurve[] = []
  for (let c = 0; c < classes; c++) {
    const np = positives[c] as number
    const pos = scores.subarray(c * rows, c * rows + np).sort()
    const neg = scores.subarray(c * rows + np, (c + 1) * rows).sort()
    out.push(walk(pos, neg))
  }
  return out
}

/** `_binary_clf_curve` + AP (Σ ΔR·P) + trapezoidal AUROC over sorted scores, from the highest. */
function walk (pos: Float64Array, neg: Float64Array): ClassCurve {
  const positives = pos.length
  const negatives = neg.length
  let i = 0
  let j = 0
  let ap = 0
  let auroc = 0
  let recall = 0
  let tpr = 0
  let fpr = 0
  while (i < positives || j < negatives) {
    const v = Math.max(i < positives ? pos[positives - 1 - i] as number : -Infinity, j < negatives ? neg[negatives - 1 - j] as number : -Infinity)
    while (i < positives && pos[positives - 1 - i] === v) i++
    while (j < negatives && neg[negatives - 1 - j] === v) j++
    const r = i / positives
    ap += (r - recall) * (i / (i + j))
    recall = r
    const nextTpr = positives > 0 ? i / positives : 0
    const nextFpr = negatives > 0 ? j / negatives : 0
    auroc += (nextFpr - fpr) * (nextTpr + tpr) / 2
    tpr = nextTpr
    fpr = nextFpr
  }
  return { ap: positives > 0 ? ap : null, auroc }
}

const safe = (a: number, b: number): number => b === 0 ? 0 : a / b

/** torchmetrics' binned curves: safe divisions (0 for 0/0), so never NaN. */
function binnedCurve (curve: Extract<CurveStats, { kind: 'binned' }>, c: number): ClassCurve {
  const k = curve.thresholds
  const width = k + 1
  const at = c * width * 2
  let positives = 0
  let negatives = 0
  for (let j = 0; j < width; j++) {
    negatives += curve.counts[at + 2 * j] as number
    positives += curve.counts[at + 2 * j + 1] as number
  }
  // Walk thresholds from the highest down: tps(j) = positives passing threshold j = Σ over idx > j.
  let tps = 0
  let fps = 0
  let ap = 0
  let auroc = 0
  let nextRecall = 0
  let prevTpr = 0
  let prevFpr = 0
  for (let j = k - 1; j >= 0; j--) {
    fps += curve.counts[at + 2 * (j + 1)] as number
    tps += curve.counts[at + 2 * (j + 1) + 1] as number
    const recall = safe(tps, positives)
    ap -= (nextRecall - recall) * safe(tps, tps + fps)
    nextRecall = recall
    const tpr = safe(tps, positives)
    const fpr = safe(fps, negatives)
    if (j < k - 1) auroc += (fpr - prevFpr) * (tpr + prevTpr) / 2
    prevTpr = tpr
    prevFpr = fpr
  }
  return { ap, auroc }
}

export function classCurves (curve: CurveStats, classes: number): ClassCurve[] {
  if (curve.kind === 'exact') return exactCurves(curve, classes)
  const out: ClassCurve[] = []
  for (let c = 0; c < classes; c++) out.push(binnedCurve(curve, c))
  return out
}
