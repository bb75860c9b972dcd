/**
 * The schemas of issue 10's losses: /loss/poly, /loss/logit-adjusted, /loss/ldam, /loss/asymmetric,
 * /loss/seesaw, and `/loss/compare`'s `losses` list. Ranges are the core's to check (it names the
 * field the same way for JSON and V2), so the option numbers here carry only their type and default.
 */
import { Type, type Static } from '@sinclair/typebox'
import {
  ASYMMETRIC_DEFAULTS, DEFAULTS, LDAM_DEFAULTS, LOGIT_ADJUSTED_DEFAULTS, POLY_DEFAULTS, SEESAW_DEFAULTS
} from '../src/losses/defaults.js'
import { metricsFields, metricsReplyFields, perClassMetricFields } from './metrics.js'
import { Alpha, analysis, ceFields, ClassWeights, common, CompareBody, HardRow, LossFields, Totals } from './loss.js'

const num = (value: number, description: string) => Type.Optional(Type.Number({ default: value, description }))

const shared = {
  logits: common.logits,
  labels: common.labels,
  reduction: common.reduction,
  ignoreIndex: common.ignoreIndex,
  breakdown: analysis.breakdown,
  hardest: analysis.hardest,
  ...metricsFields
}

const ClassCounts = Type.Optional(Type.Array(Type.Number(), {
  minItems: 1, description: 'required: training samples per class, one per class, >= 0'
}))

const polyFields = {
  base: Type.Optional(Type.Union([Type.Literal('ce'), Type.Literal('focal')], { default: POLY_DEFAULTS.base, description: 'the loss Poly-1 extends' })),
  epsilon: num(POLY_DEFAULTS.epsilon, 'ε, the weight of the first polynomial term (1 − p_t)^(1 or γ+1); ε >= −1'),
  labelSmoothing: common.labelSmoothing,
  ...ceFields,
  gamma: num(POLY_DEFAULTS.gamma, 'focal base: focusing parameter, >= 0'),
  alpha: Type.Optional({ ...Alpha, description: `focal base: ${String(Alpha.description)}` })
}

const logitAdjustedFields = {
  classCounts: ClassCounts,
  tau: num(LOGIT_ADJUSTED_DEFAULTS.tau, 'τ: the logits are x + τ log π, π_c = n_c / Σn'),
  labelSmoothing: common.labelSmoothing,
  weight: ceFields.weight
}

const ldamFields = {
  classCounts: ClassCounts,
  maxMargin: num(LDAM_DEFAULTS.maxMargin, 'the largest margin (that of the rarest class), >= 0'),
  scale: num(LDAM_DEFAULTS.scale, 's, the logits\' scale, > 0'),
  weight: ceFields.weight
}

const asymmetricFields = {
  gammaPos: num(ASYMMETRIC_DEFAULTS.gammaPos, 'γ+, focusing of the positives, >= 0'),
  gammaNeg: num(ASYMMETRIC_DEFAULTS.gammaNeg, 'γ−, focusing of the negatives, >= 0'),
  clip: num(ASYMMETRIC_DEFAULTS.clip, 'probability shift of the negatives, in [0, 1)'),
  eps: num(ASYMMETRIC_DEFAULTS.eps, 'the clamp of the logs, in [0, 1)'),
  labelSmoothing: common.labelSmoothing
}

const seesawFields = {
  classCounts: Type.Optional({ ...ClassCounts, description: 'required: mmpretrain\'s cum_samples, used as given' }),
  p: num(SEESAW_DEFAULTS.p, 'mitigation exponent, >= 0'),
  q: num(SEESAW_DEFAULTS.q, 'compensation exponent, >= 0'),
  eps: num(SEESAW_DEFAULTS.eps, 'the clamp of the target probability, > 0')
}

const softmaxOrSigmoid = common.activation
const asymmetricActivation = Type.Optional({ ...common.activation, default: 'sigmoid', description: 'sigmoid only: ASL is a multi-label loss' })
const classBalance = analysis.classBalance

export const PolyBody = Type.Object({ ...shared, activation: softmaxOrSigmoid, ...polyFields, classBalance }, { additionalProperties: false })
export const LogitAdjustedBody = Type.Object({ ...shared, ...logitAdjustedFields, classBalance }, { additionalProperties: false })
export const LdamBody = Type.Object({ ...shared, ...ldamFields, classBalance }, { additionalProperties: false })
export const AsymmetricBody = Type.Object({
  ...shared,
  activation: asymmetricActivation,
  reduction: Type.Optional({ ...common.reduction, default: ASYMMETRIC_DEFAULTS.reduction }),
  ...asymmetricFields
}, { additionalProperties: false })
export const SeesawBody = Type.Object({ ...shared, ...seesawFields }, { additionalProperties: false })
export type LossBody = Static<typeof PolyBody> & Static<typeof LogitAdjustedBody> & Static<typeof LdamBody> & Static<typeof AsymmetricBody> & Static<typeof SeesawBody>

/** One entry of `/loss/compare`'s `losses`: its kind, its name, and its own options (which ones per kind: the codec checks). */
export const LossEntry = Type.Object({
  loss: Type.Union(['ce', 'focal', 'poly', 'logit_adjusted', 'ldam', 'asymmetric', 'seesaw'].map((k) => Type.Literal(k))),
  name: Type.Optional(Type.String({ description: 'the key of this loss in the reply (default: its kind); unique, not perClass, classWeights, metrics or run' })),
  ...polyFields,
  ...logitAdjustedFields,
  ...ldamFields,
  ...asymmetricFields,
  ...seesawFields,
  gamma: num(DEFAULTS.gamma, 'focal, poly with base focal: focusing parameter, >= 0'),
  eps: Type.Optional(Type.Number({ description: `asymmetric: the clamp of the logs (${ASYMMETRIC_DEFAULTS.eps}); seesaw: the clamp of the target probability (${SEESAW_DEFAULTS.eps})` })),
  labelSmoothing: common.labelSmoothing
}, { additionalProperties: false, examples: [{ loss: 'poly', epsilon: 1, name: 'poly1' }] })

export const CompareLossesBody = Type.Object({
  ...CompareBody.properties,
  losses: Type.Optional(Type.Array(LossEntry, {
    minItems: 1,
    description: 'the losses to compare, each with its own options; logits, labels, activation, reduction, ignoreIndex, classBalance, breakdown ' +
      'and hardest are shared. Without it: cross-entropy and focal, with the options at top level'
  }))
}, {
  additionalProperties: false,
  description: CompareBody.description
})
export type CompareLossesBody = Static<typeof CompareLossesBody>

const NamedLossReply = Type.Object({ ...LossFields, hardest: Type.Optional(Type.Array(HardRow)) })

/** `/loss/compare` with `losses`: each loss under its name, perClass with each name's totals. */
export const CompareLossesReply = Type.Object({
  perClass: Type.Optional(Type.Array(Type.Object({ class: Type.Integer(), count: Type.Number(), ...perClassMetricFields }, { additionalProperties: Totals }))),
  classWeights: Type.Optional(ClassWeights),
  ...metricsReplyFields
}, {
  additionalProperties: NamedLossReply,
  description: 'with losses: every loss under its name ({loss, reduction, sum, normalizer, hardest?}), perClass listing {sum, mean} under each name',
  examples: [{
    ce: { loss: 0.1961, reduction: 'mean', sum: 0.3923, normalizer: 2 },
    poly1: { loss: 0.3421, reduction: 'mean', sum: 0.6842, normalizer: 2 }
  }]
})
export type CompareLossesReply = Static<typeof CompareLossesReply>
