/**
 * Sufficient statistics of the evaluation metrics: everything a metric needs, in a form where two
 * batches merge exactly (counts add; float64 sums add, so a merge is exact up to float64 rounding of
 * those sums). `merge.ts` adds them, `report.ts` turns them into numbers, `codec.ts` stores them.
 */

/** Per calibration bin (bins + 1 of them: torchmetrics puts confidence 1 in an extra last bin). */
export interface CalibrationStats {
  readonly bins: number
  readonly count: Float64Array
  /** Σ confidence (float32 values, summed in float64). */
  readonly confidence: Float64Array
  /** Σ accuracy (0 or 1). */
  readonly accuracy: Float64Array
}

/** Rows true, columns predicted; sparse keys are true * C + predicted. */
export type ConfusionStats =
  | { readonly form: 'dense', readonly counts: Float64Array }
  | { readonly form: 'sparse', readonly counts: ReadonlyMap<number, number> }

/**
 * What AP and AUROC need. `exact` keeps every (logit, target) pair, rows x C row-major: merging
 * concatenates, so the state grows with the data (torchmetrics `thresholds=None`). `binned` keeps,
 * per class, how many positives / negatives pass exactly j of the K thresholds (torchmetrics
 * `thresholds=K`): C x (K + 1) x 2 counts, the same size after any number of merges.
 */
export type CurveStats =
  | { readonly kind: 'exact', readonly rows: number, readonly logits: Float32Array, readonly positive: Uint8Array }
  | { readonly kind: 'binned', readonly thresholds: number, readonly counts: Float64Array }

export interface MulticlassStats {
  readonly kind: 'multiclass'
  readonly classes: number
  /** Samples counted (non-ignored rows, or frames of temporal input). */
  readonly rows: number
  readonly topk: readonly number[]
  /** Rows whose target is among the k largest logits, per entry of `topk`. */
  readonly hits: Float64Array
  /** Per class: rows of that target class, rows predicted as it (argmax), rows both (true positives). */
  readonly target: Float64Array
  readonly predicted: Float64Array
  readonly correct: Float64Array
  readonly calibration: CalibrationStats
  /** Σ over rows of Σ_c (p_c - y_c)². */
  readonly brier: number
  readonly confusion: ConfusionStats | undefined
}

export interface MultilabelStats {
  readonly kind: 'multilabel'
  readonly classes: number
  readonly rows: number
  /** Per class at threshold 0.5 (σ(x) > 0.5 is a positive prediction, as torchmetrics). */
  readonly tp: Float64Array
  readonly fp: Float64Array
  readonly fn: Float64Array
  readonly curve: CurveStats
}

export interface BinaryStats {
  readonly kind: 'binary'
  readonly rows: number
  readonly tp: number
  readonly fp: number
  readonly tn: number
  readonly fn: number
  readonly calibration: CalibrationStats
  /** Σ over rows of (p - y)². */
  readonly brier: number
  readonly curve: CurveStats
}

export type MetricStats = MulticlassStats | MultilabelStats | BinaryStats

export function calibrationStats (bins: number): CalibrationStats {
  return { bins, count: new Float64Array(bins + 1), confidence: new Float64Array(bins + 1), accuracy: new Float64Array(bins + 1) }
}
