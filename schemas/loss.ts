import { Type, type Static } from '@sinclair/typebox'
import { DEFAULTS } from '../src/losses/defaults.js'
import { Decoded, NumberOrNull, OneOf, RowIndex } from './common.js'
import { metricsFields, metricsReplyFields, perClassMetricFields } from './metrics.js'

const Num = Type.Number()
const Vector = (description: string) => Type.Array(Type.Number({ minimum: 0 }), { minItems: 1, description })

export const Logits = Decoded(Type.Union([
  Type.Array(Type.Array(Num, { minItems: 1 }), { minItems: 1 }),
  Type.Array(Num, { minItems: 1 }),
  Type.Array(Type.Array(Type.Array(Num, { minItems: 1 }), { minItems: 1 }), { minItems: 1 })
], {
  description: 'Raw scores, finite float32 values: [N][C]; [N] (binary, activation "sigmoid" only); or [N][C][T] (temporal, softmax only)',
  examples: [[[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]]]
}))

export const Labels = Decoded(Type.Union([
  Type.Array(Type.Integer()),
  Type.Array(Type.Array(Num)),
  Type.Array(Num),
  Type.Array(Type.Array(Type.Integer())),
  Type.Array(Type.Array(Type.Array(Num)))
], {
  description: 'Class indices [N] (or [N][T]; ignoreIndex marks rows to skip); or targets/probabilities in [0, 1] of the logits\' shape',
  examples: [[0, 2]]
}))

export const common = {
  logits: Logits,
  labels: Labels,
  activation: Type.Optional(Type.Union([Type.Literal('softmax'), Type.Literal('sigmoid')], {
    default: DEFAULTS.activation,
    description: 'softmax: single-label multi-class; sigmoid: binary / multi-label (index labels are one-hot encoded)'
  })),
  reduction: Type.Optional(Type.Union([Type.Literal('mean'), Type.Literal('sum'), Type.Literal('none')], {
    default: DEFAULTS.reduction,
    description: 'none returns per-row (softmax) or per-element (sigmoid) losses'
  })),
  ignoreIndex: Type.Optional(Type.Integer({ default: DEFAULTS.ignoreIndex, description: 'rows with this label contribute nothing (index labels only)' })),
  labelSmoothing: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: DEFAULTS.labelSmoothing, description: 'softmax: t(1-ε)+ε/C (PyTorch); sigmoid: t(1-ε)+ε/2 (Keras)' }))
}

export const ClassBalance = Type.Object({
  counts: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 1, description: 'training samples per class (n_c > 0)' }),
  beta: Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'β in [0, 1); 0.999 or 0.9999 in the paper' })
}, {
  additionalProperties: false,
  description: 'class-balanced weights (Cui et al. 2019): w_c = (1-β)/(1-β^n_c), normalised to sum to C; used as `weight` by /loss/ce, ' +
    'as per-class `alpha` by softmax focal, and as a per-class multiplier (alpha off) by sigmoid focal; excludes weight/alpha',
  examples: [{ counts: [900, 90, 10], beta: 0.999 }]
})

export const analysis = {
  classBalance: Type.Optional(ClassBalance),
  breakdown: Type.Optional(Type.Boolean({ default: false, description: 'add perClass: loss sum, count and mean per class' })),
  hardest: Type.Optional(Type.Integer({ minimum: 1, description: 'add the k rows (frames) with the largest loss, 1 <= k <= N' })),
  ...metricsFields
}

export const ceFields = {
  weight: Type.Optional(Vector('per-class weight, PyTorch `weight`')),
  posWeight: Type.Optional(Vector('per-class weight of positives, sigmoid only, PyTorch `pos_weight`'))
}

export const CrossEntropyBody = Type.Object({ ...common, ...ceFields, ...analysis }, { additionalProperties: false })
export type CrossEntropyBody = Static<typeof CrossEntropyBody>

export const Alpha = Type.Union([
  Type.Number({ minimum: 0, maximum: 1 }),
  Type.Array(Type.Number({ minimum: 0 }), { minItems: 1 }),
  Type.Null()
], { default: DEFAULTS.alpha, description: 'balancing: a scalar in [0, 1], one value per class (in [0, 1] for sigmoid, >= 0 for softmax), or null for none' })

export const focalFields = {
  gamma: Type.Optional(Type.Number({ minimum: 0, default: DEFAULTS.gamma, description: 'focusing parameter' })),
  alpha: Type.Optional(Alpha)
}

export const FocalBody = Type.Object({ ...common, ...focalFields, ...analysis }, { additionalProperties: false })
export type FocalBody = Static<typeof FocalBody>

export const CompareBody = Type.Object({ ...common, ...ceFields, ...focalFields, ...analysis }, {
  additionalProperties: false,
  description: 'one batch scored by both losses: weight/posWeight go to cross-entropy, gamma/alpha to focal'
})
export type CompareBody = Static<typeof CompareBody>

export const ClassTotals = Type.Object({
  class: Type.Integer(),
  count: Type.Number({ description: 'softmax: rows labelled with the class (largest target for probabilities); sigmoid: rows whose target is >= 0.5' }),
  sum: Type.Number(),
  mean: NumberOrNull({ description: 'softmax: sum / count; sigmoid: sum / rows; null when that is 0' }),
  ...perClassMetricFields
})

export const HardRow = Type.Object({
  index: RowIndex({ description: 'row n, or [n, t] for temporal input' }),
  label: Type.Integer({ description: 'class index (largest target for probabilities)' }),
  loss: Type.Number({ description: 'the row\'s loss (sum over classes for sigmoid)' })
})

export const ClassWeights = Type.Array(Type.Number(), { description: 'the class-balanced weights used' })

export const LossFields = {
  loss: Type.Unsafe<number | null | unknown[]>({
    type: ['number', 'null', 'array'],
    items: {},
    description: 'the mean or sum; null for a mean over nothing (every row ignored); under reduction "none" the per-row [N] ([N][T] temporal) or per-element (logits\' shape) losses'
  }),
  reduction: OneOf(['mean', 'sum', 'none']),
  sum: Type.Number({ description: 'sum of the per-row / per-element losses' }),
  normalizer: Type.Number({ description: 'what mean divides by; combine batches as Σsum / Σnormalizer' })
}

export const LossReply = Type.Object({
  ...LossFields,
  perClass: Type.Optional(Type.Array(ClassTotals)),
  hardest: Type.Optional(Type.Array(HardRow)),
  classWeights: Type.Optional(ClassWeights),
  ...metricsReplyFields
}, { examples: [{ loss: 0.0104, reduction: 'mean', sum: 0.0208, normalizer: 2 }] })
export type LossReply = Static<typeof LossReply>

export const Totals = Type.Object({ sum: Type.Number(), mean: NumberOrNull() })

export const CompareReply = Type.Object({
  ce: Type.Object({ ...LossFields, hardest: Type.Optional(Type.Array(HardRow)) }),
  focal: Type.Object({ ...LossFields, hardest: Type.Optional(Type.Array(HardRow)) }),
  perClass: Type.Optional(Type.Array(Type.Object({ class: Type.Integer(), count: Type.Number(), ce: Totals, focal: Totals, ...perClassMetricFields }))),
  classWeights: Type.Optional(ClassWeights),
  ...metricsReplyFields
}, {
  examples: [{
    ce: { loss: 0.1961, reduction: 'mean', sum: 0.3923, normalizer: 2 },
    focal: { loss: 0.0015, reduction: 'mean', sum: 0.0031, normalizer: 2 }
  }]
})
export type CompareReply = Static<typeof CompareReply>
