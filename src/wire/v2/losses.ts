/**
 * V2's side of issue 10's losses: the models poly, logit_adjusted, ldam, asymmetric and seesaw
 * (options as snake_case parameters, class_counts as the input tensor), and model compare's `losses`
 * parameter, a JSON string of entries with snake_case keys (tritonclient parameters are scalars).
 * Both become the same specs the JSON API builds (dataplane/specs.ts), their fields named in V2's
 * spelling: `parameters.epsilon`, `class_counts`, `parameters.losses[2].gamma`.
 */
import { invalid } from '../../errors.js'
import type { NamedLoss } from '../../dataplane/index.js'
import { checkForeign, defaultActivation, defaultReduction, lossSpec, namedLosses, type Fields, type Shared } from '../../dataplane/specs.js'
import { balancedWeights, DEFAULTS, type Activation, type LossInput, type LossKind, type Namer, type Reduction } from '../../losses/index.js'
import type { Parameters } from '../../../schemas/v2.js'
import { v2Name } from './names.js'
import { HARDEST_FIELDS, LOSS_FIELDS, LOSS_MODELS, metricOutputs, output, PER_CLASS_FIELDS, type ModelName, type OutputSpec } from './models.js'
import { numberParam, stringParam } from './parameters.js'
import { readCounts, readVector, type RawInput } from './tensors.js'

const snake = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
const camel = (key: string): string => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())

/** Options that are input tensors in V2, not parameters. */
const INPUTS: ReadonlySet<string> = new Set(['logits', 'labels', 'weight', 'posWeight', 'classCounts'])

/** V2's names of a loss model's fields: tensors by their input name, options as parameters. */
export const lossModelName: Namer = (field) => INPUTS.has(field) ? snake(field) : field.startsWith('classBalance') || field === 'hardest' ? v2Name(field) : `parameters.${snake(field)}`

/** Parameters that are loss options (the rest are shared or the protocol's). */
const OPTION_PARAMETERS: ReadonlySet<string> = new Set(['label_smoothing', 'base', 'epsilon', 'gamma', 'alpha', 'tau', 'max_margin', 'scale', 'gamma_pos', 'gamma_neg', 'clip', 'eps', 'p', 'q'])

export interface DecodedLosses {
  readonly losses: NamedLoss[]
  readonly activation: Activation
  readonly reduction: Reduction
  readonly classWeights: Float32Array | undefined
}

function shared (parameters: Parameters, raw: ReadonlyMap<string, RawInput>, input: LossInput, activation: Activation, takesCounts: boolean): Shared {
  const counts = raw.get('class_counts')
  const beta = parameters.class_balance_beta
  if (beta !== undefined && counts === undefined) invalid('parameters.class_balance_beta needs the input class_counts, the training samples per class')
  if (counts !== undefined && beta === undefined && !takesCounts) invalid(`${counts.label} needs parameters.class_balance_beta, β in [0, 1), or a loss that takes class counts`)
  const { shape } = input
  const balanced = counts === undefined || beta === undefined
    ? undefined
    : balancedWeights({ counts: readCounts(counts), beta: numberParam(parameters, 'class_balance_beta', 0) }, { weight: false, alpha: false }, shape.length === 1 ? 1 : shape[1] ?? 1, v2Name)
  const reduction = parameters.reduction === undefined ? undefined : stringParam<Reduction>(parameters, 'reduction', ['mean', 'sum', 'none'], DEFAULTS.reduction)
  return {
    activation: stringParam<Activation>(parameters, 'activation', ['softmax', 'sigmoid'], activation),
    reduction,
    ignoreIndex: numberParam(parameters, 'ignore_index', DEFAULTS.ignoreIndex, true),
    balanced
  }
}

const TAKES_COUNTS: ReadonlySet<LossKind> = new Set(['logit_adjusted', 'ldam', 'seesaw'])

export type LossModel = 'poly' | 'logit_adjusted' | 'ldam' | 'asymmetric' | 'seesaw'

export function isLossModel (model: ModelName): model is LossModel {
  return LOSS_MODELS.has(model)
}

/** A loss model's one loss: its parameters and vector inputs as the spec's fields. */
export function decodeLossModel (model: LossModel, parameters: Parameters, raw: ReadonlyMap<string, RawInput>, input: LossInput): DecodedLosses {
  const common = shared(parameters, raw, input, defaultActivation(model), TAKES_COUNTS.has(model))
  const fields: Record<string, unknown> = {}
  for (const key of Object.keys(parameters)) if (OPTION_PARAMETERS.has(key)) fields[camel(key)] = parameters[key]
  const alpha = readVector(raw.get('alpha'))
  if (alpha !== undefined && parameters.alpha !== undefined) invalid('alpha is given both as an input and as parameters.alpha; send one')
  // Parameters cannot be null: torchvision's own "no balancing" value, -1, stands for it.
  if (alpha !== undefined || parameters.alpha === -1) fields.alpha = alpha ?? null
  fields.weight = readVector(raw.get('weight'))
  fields.posWeight = readVector(raw.get('pos_weight'))
  const counts = raw.get('class_counts')
  if (TAKES_COUNTS.has(model) && counts !== undefined) fields.classCounts = Float32Array.from(readCounts(counts))
  checkForeign(model, fields, lossModelName, new Set())
  return {
    losses: [{ label: model, ...lossSpec(model, fields, common, lossModelName) }],
    activation: common.activation ?? defaultActivation(model),
    reduction: common.reduction ?? defaultReduction(model),
    classWeights: common.balanced
  }
}

/** compare's top-level options of cross-entropy and focal, which belong in an entry once `losses` is given. */
const OWN_OPTIONS = ['gamma', 'alpha', 'label_smoothing'] as const

/** How entry i of parameters.losses names its fields; shared ones as applied to it. */
function entryName (i: number): Namer {
  return (field) => {
    if (field === 'activation' || field === 'reduction' || field === 'ignoreIndex') return `parameters.${snake(field)} (as applied to parameters.losses[${i}])`
    if (field.startsWith('classBalance')) return `${v2Name(field)} (as applied to parameters.losses[${i}])`
    return `parameters.losses[${i}].${snake(field)}`
  }
}

/** The entries of compare's `losses` parameter, a JSON string, with their keys in the JSON API's spelling. */
function entriesOf (value: unknown, counts: Float32Array | undefined): Fields[] {
  if (typeof value !== 'string') return invalid('parameters.losses must be a string: a JSON array of losses, e.g. [{"loss": "ce"}, {"loss": "poly", "epsilon": 1}]')
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch (err) {
    return invalid(`parameters.losses is not valid JSON: ${(err as Error).message}`)
  }
  if (!Array.isArray(parsed)) return invalid('parameters.losses must be a JSON array of losses, e.g. [{"loss": "ce"}, {"loss": "poly", "epsilon": 1}]')
  return parsed.map((entry: unknown, i): Fields => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return invalid(`parameters.losses[${i}] must be a JSON object`)
    const fields: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(entry as Record<string, unknown>)) {
      if (key !== snake(camel(key)) || key === '__proto__' || key === 'constructor' || key === 'prototype') invalid(`parameters.losses[${i}].${key} is not a known field (keys are snake_case)`)
      fields[camel(key)] = v
    }
    if (fields.classCounts === undefined && counts !== undefined && TAKES_COUNTS.has(fields.loss as LossKind)) fields.classCounts = counts
    return fields
  })
}

/** compare with parameters.losses: the listed losses, the shared parameters applied to each. */
export function decodeLossesParameter (parameters: Parameters, raw: ReadonlyMap<string, RawInput>, input: LossInput): DecodedLosses {
  for (const key of OWN_OPTIONS) {
    if (parameters[key] !== undefined) invalid(`parameters.${key} is an option of one loss: with parameters.losses, give it in the entries it belongs to`)
  }
  for (const name of ['weight', 'pos_weight', 'alpha']) {
    const given = raw.get(name)
    if (given !== undefined) invalid(`${given.label} is an option of one loss: with parameters.losses, give it as "${name}" in the entries it belongs to`)
  }
  const countsRaw = raw.get('class_counts')
  const counts = countsRaw === undefined ? undefined : Float32Array.from(readCounts(countsRaw))
  const entries = entriesOf(parameters.losses, counts)
  const takesCounts = entries.some((e) => TAKES_COUNTS.has(e.loss as LossKind))
  const common = shared(parameters, raw, input, DEFAULTS.activation, takesCounts)
  const losses = namedLosses(entries, common, 'parameters.losses', entryName)
  return {
    losses,
    activation: common.activation ?? DEFAULTS.activation,
    reduction: common.reduction ?? defaultReduction(losses[0]?.kind ?? 'ce'),
    classWeights: common.balanced
  }
}

/** compare's outputs for the named losses: `<name>_loss`, ..., in the order of the fixed compare model's. */
export function namedOutputs (names: readonly string[]): OutputSpec[] {
  const each = (fields: readonly typeof LOSS_FIELDS[number][]): OutputSpec[] => names.flatMap((name) => fields.map((f) => output(f, name)))
  return [...each(LOSS_FIELDS), output('per_class_count'), ...each(PER_CLASS_FIELDS), ...each(HARDEST_FIELDS), output('class_weights'), ...metricOutputs]
}
