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

const descending = (a: number, b: number): number => b - a

function exactCurve (curve: Extract<CurveStats, { kind: 'exact' }>, classes: number, c: number): ClassCurve {
  let positives = 0
  for (let i = c; i < curve.positive.length; i += classes) positives += curve.positive[i] as number
  const negatives = curve.rows - positives
  if (curve.rows === 0) return { ap: null, auroc: null }
  const pos = new Float64Array(positives)
  const neg = new Float64Array(negatives)
  for (let i = c, a = 0, b = 0; i < curve.positive.length; i += classes) {
    const p = sigmoid(curve.logits[i] as number)
    if (curve.positive[i] === 1) pos[a++] = p
    else neg[b++] = p
  }
  pos.sort(descending)
  neg.sort(descending)
  let i = 0
  let j = 0
  let ap = 0
  let auroc = 0
  let recall = 0
  let tpr = 0
  let fpr = 0
  while (i < positives || j < negatives) {
    const v = Math.max(i < positives ? pos[i] as number : -Infinity, j < negatives ? neg[j] as number : -Infinity)
    while (i < positives && pos[i] === v) i++
    while (j < negatives && neg[j] === v) j++
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

export function classCurve (curve: CurveStats, classes: number, c: number): ClassCurve {
  return curve.kind === 'exact' ? exactCurve(curve, classes, c) : binnedCurve(curve, c)
}
