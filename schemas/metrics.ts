/**
 * The evaluation metrics on the loss routes: the request fields (spread into a body schema with
 * `...metricsFields`), the reply's `metrics` object and the per-class fields `breakdown` adds.
 * Ranges that depend on the batch (k <= C, one count per class, many > few) are checked by the core.
 */
import { Type, type Static, type TObject } from '@sinclair/typebox'
import { NumberOrNull, OneOf } from './common.js'

export const Shots = Type.Object({
  counts: Type.Array(Type.Number({ minimum: 0 }), { minItems: 1, description: 'training samples per class, one per class' }),
  many: Type.Optional(Type.Number({ default: 100, description: 'many-shot: more than this many training samples' })),
  few: Type.Optional(Type.Number({ default: 20, description: 'few-shot: fewer than this many (medium: the rest); must be < many' }))
}, {
  additionalProperties: false,
  description: 'many / medium / few-shot groups (Liu et al. 2019); without it, classBalance.counts is used when given (softmax only)',
  examples: [{ counts: [900, 90, 10], many: 100, few: 20 }]
})

export const metricsFields = {
  metrics: Type.Optional(Type.Boolean({ default: false, description: 'add "metrics": accuracy, top-k, calibration, … as torchmetrics 1.2.0 computes them' })),
  topk: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), {
    minItems: 1, description: 'softmax: the k of top-k accuracy, distinct, each <= C; default [1, 5] (the k <= C of them)', examples: [[1, 5]]
  })),
  calibrationBins: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 15, description: 'equal-width confidence bins of ece / mce / rmsce and the reliability diagram' })),
  confusion: Type.Optional(Type.Union([Type.Literal('dense'), Type.Literal('sparse')], {
    description: 'softmax: add the confusion matrix, C rows of C counts (dense) or [true, predicted, count] triples of its non-zero cells (sparse)'
  })),
  shots: Type.Optional(Shots)
}

export type MetricsBody = Static<TObject<typeof metricsFields>>

const Nullable = (description: string) => NumberOrNull({ description })

const ReliabilityBin = Type.Object({
  lower: Type.Number(),
  upper: Type.Number(),
  count: Type.Number(),
  confidence: Nullable('mean confidence of the bin\'s rows; null for an empty bin'),
  accuracy: Nullable('their accuracy; null for an empty bin')
})

const ShotGroup = Type.Object({
  classes: Type.Integer({ description: 'classes in the group by their training counts' }),
  rows: Type.Number({ description: 'batch rows whose class is in the group' }),
  accuracy: Nullable('mean over the group\'s classes present in the batch of their accuracy (OLTR shot_acc); null with no rows')
}, { additionalProperties: Nullable('per loss of the route (ce, focal): the mean per-row loss of the group\'s rows; null with no rows') })

export const MetricsReply = Type.Object({
  kind: OneOf(['multiclass', 'multilabel', 'binary'], { description: 'softmax: multiclass; sigmoid [N, C]: multilabel; sigmoid [N]: binary' }),
  rows: Type.Number({ description: 'samples counted: rows (frames for [N][C][T]) not ignored' }),
  accuracy: Type.Optional(Type.Number({ description: 'MulticlassAccuracy(average="micro", top_k=1) / BinaryAccuracy' })),
  topk: Type.Optional(Type.Record(Type.String(), Type.Number(), { description: 'per k: MulticlassAccuracy(average="micro", top_k=k)' })),
  meanClassAccuracy: Type.Optional(Type.Number({ description: 'MulticlassAccuracy(average="macro")' })),
  ece: Type.Optional(Nullable('CalibrationError(norm="l1"); null with no rows')),
  mce: Type.Optional(Type.Number({ description: 'CalibrationError(norm="max")' })),
  rmsce: Type.Optional(Type.Number({ description: 'CalibrationError(norm="l2")' })),
  reliability: Type.Optional(Type.Array(ReliabilityBin, { description: 'the calibration bins [lower, upper), and [1, 1] when a confidence is exactly 1' })),
  brier: Type.Optional(Nullable('mean over rows of Σ_c (p_c − y_c)²; null with no rows')),
  confusion: Type.Optional(Type.Array(Type.Array(Type.Number()), { description: 'MulticlassConfusionMatrix: rows true, columns predicted; sparse: [true, predicted, count]' })),
  shots: Type.Optional(Type.Object({ many: ShotGroup, medium: ShotGroup, few: ShotGroup })),
  precision: Type.Optional(Type.Number({ description: 'MultilabelPrecision(average="macro", threshold=0.5)' })),
  recall: Type.Optional(Type.Number({ description: 'MultilabelRecall(average="macro")' })),
  f1: Type.Optional(Type.Number({ description: 'MultilabelF1Score(average="macro")' })),
  microF1: Type.Optional(Type.Number({ description: 'MultilabelF1Score(average="micro")' })),
  mAP: Type.Optional(Nullable('MultilabelAveragePrecision(average="macro", thresholds=None); null when no class has a positive')),
  auroc: Type.Optional(Nullable('MultilabelAUROC / BinaryAUROC (thresholds=None); null when undefined')),
  ap: Type.Optional(Nullable('BinaryAveragePrecision(thresholds=None)'))
}, { description: 'present with metrics: true; which fields appear follows kind (README: Metrics)' })

export type MetricsReply = Static<typeof MetricsReply>

export const metricsReplyFields = {
  metrics: Type.Optional(MetricsReply)
}

/** What `breakdown` adds to each perClass entry when metrics are asked for. */
export const perClassMetricFields = {
  recall: Type.Optional(Type.Number({ description: 'softmax metrics: MulticlassRecall(average=None)' })),
  precision: Type.Optional(Type.Number({ description: 'softmax metrics: MulticlassPrecision(average=None)' })),
  f1: Type.Optional(Type.Number({ description: 'softmax metrics: MulticlassF1Score(average=None)' })),
  ap: Type.Optional(Nullable('sigmoid metrics: the class\'s average precision; null without a positive'))
}
