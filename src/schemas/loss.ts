import { Type, type Static } from '@sinclair/typebox'
import { Decoded } from './common.js'

/** Defaults of the optional fields; the decoder reads them from here too. */
export const DEFAULTS = {
  activation: 'softmax',
  reduction: 'mean',
  ignoreIndex: -100,
  labelSmoothing: 0,
  gamma: 2,
  alpha: 0.25
} as const

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

const common = {
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

export const CrossEntropyBody = Type.Object({
  ...common,
  weight: Type.Optional(Vector('per-class weight, PyTorch `weight`')),
  posWeight: Type.Optional(Vector('per-class weight of positives, sigmoid only, PyTorch `pos_weight`'))
}, { additionalProperties: false })
export type CrossEntropyBody = Static<typeof CrossEntropyBody>

export const Alpha = Type.Union([
  Type.Number({ minimum: 0, maximum: 1 }),
  Type.Array(Type.Number({ minimum: 0 }), { minItems: 1 }),
  Type.Null()
], { default: DEFAULTS.alpha, description: 'balancing: a scalar in [0, 1], one value per class (in [0, 1] for sigmoid, >= 0 for softmax), or null for none' })

export const FocalBody = Type.Object({
  ...common,
  gamma: Type.Optional(Type.Number({ minimum: 0, default: DEFAULTS.gamma, description: 'focusing parameter' })),
  alpha: Type.Optional(Alpha)
}, { additionalProperties: false })
export type FocalBody = Static<typeof FocalBody>

const NestedNumbers = Type.Array(Type.Unknown(), { description: 'per-row [N] ([N][T] temporal) or per-element (logits\' shape) losses' })

export const LossReply = Type.Object({
  loss: Type.Union([Type.Number(), Type.Null(), NestedNumbers], {
    description: 'the mean or sum; null for a mean over nothing (every row ignored); the array under reduction "none"'
  }),
  reduction: Type.Union([Type.Literal('mean'), Type.Literal('sum'), Type.Literal('none')]),
  sum: Type.Number({ description: 'sum of the per-row / per-element losses' }),
  normalizer: Type.Number({ description: 'what mean divides by; combine batches as Σsum / Σnormalizer' })
}, { examples: [{ loss: 0.0104, reduction: 'mean', sum: 0.0208, normalizer: 2 }] })
export type LossReply = Static<typeof LossReply>
