/**
 * A V2 inference request as the dataplane's request, plus the outputs it asks for. Inputs become the
 * same `LossInput` the JSON API builds; parameters become the same options. The core names fields
 * through `v2Name`, so its messages read in V2's spelling (`pos_weight`, `parameters.hardest`).
 */
import { invalid } from '../../errors.js'
import type { NamedLoss, ScoreRequest } from '../../dataplane/index.js'
import {
  balancedWeights, classBalancedFocal, crossEntropyOptionsOf, DEFAULTS, focalOptionsOf,
  type Analysis, type CommonOptions, type CrossEntropyOptions, type FocalOptions, type LossInput, type Reduction
} from '../../losses/index.js'
import type { InferRequest, Parameters } from '../../../schemas/v2.js'
import type { FrameInfo } from './binary.js'
import { decodeLossesParameter, decodeLossModel, isLossModel, namedOutputs } from './losses.js'
import { MODELS, PROTOCOL_PARAMETERS, type ModelName, type Need } from './models.js'
import { v2Name } from './names.js'
import { decodeMetricsParameters, metricNeeds } from './metrics.js'
import { booleanParam, numberParam, outputRequests, stringParam, type OutputRequest } from './parameters.js'
import { gather, readCounts, readFloats, readLabels, readVector, shapeText, type RawInput } from './tensors.js'

export { v2Name } from './names.js'

export interface DecodedInfer {
  readonly model: ModelName
  readonly request: ScoreRequest
  /** What the reply's parameters echo. */
  readonly reduction: Reduction
  readonly outputs: readonly OutputRequest[]
}

/**
 * `class_counts` and `parameters.class_balance_beta` as the JSON API's `classBalance`, by the core's
 * rule: the same exclusion of weight and alpha, the same float32 weights.
 */
function classWeights (raw: ReadonlyMap<string, RawInput>, parameters: Parameters, shape: readonly number[]): Float32Array | undefined {
  const counts = raw.get('class_counts')
  const beta = parameters.class_balance_beta
  if (counts === undefined) {
    if (beta !== undefined) invalid('parameters.class_balance_beta needs the input class_counts, the training samples per class')
    return undefined
  }
  if (beta === undefined) invalid(`${counts.label} needs parameters.class_balance_beta, β in [0, 1)`)
  const balance = { counts: readCounts(counts), beta: numberParam(parameters, 'class_balance_beta', 0) }
  const given = { weight: raw.has('weight'), alpha: raw.has('alpha') || parameters.alpha !== undefined }
  return balancedWeights(balance, given, shape.length === 1 ? 1 : shape[1] ?? 1, v2Name)
}

function focalOptions (common: CommonOptions, parameters: Parameters, alphaRaw: RawInput | undefined, balanced: Float32Array | undefined): FocalOptions {
  const gamma = numberParam(parameters, 'gamma', DEFAULTS.gamma)
  if (balanced !== undefined) return classBalancedFocal(common, gamma, balanced)
  const alphaVector = readVector(alphaRaw)
  if (alphaVector !== undefined && parameters.alpha !== undefined) invalid('alpha is given both as an input and as parameters.alpha; send one')
  // Parameters cannot be null: torchvision's own "no balancing" value, -1, stands for it.
  const alphaScalar = numberParam(parameters, 'alpha', DEFAULTS.alpha)
  if (alphaVector === undefined && alphaScalar !== -1 && !(alphaScalar >= 0 && alphaScalar <= 1)) {
    invalid(`parameters.alpha = ${alphaScalar} is outside [0, 1] (or -1 for no balancing)`)
  }
  return focalOptionsOf(common, gamma, alphaVector ?? (alphaScalar === -1 ? null : alphaScalar))
}

/**
 * A V2 request as the dataplane's request. `frame` tells how long the JSON header was and holds the
 * bytes after it. Option checks the core makes (ranges, vector lengths, `hardest` against the number
 * of rows) stay in the core.
 */
export function decodeInfer (model: ModelName, request: InferRequest, frame: FrameInfo): DecodedInfer {
  const parameters = request.parameters ?? {}
  const spec = MODELS[model]
  for (const key of Object.keys(parameters)) {
    if (!spec.parameters.includes(key) && !PROTOCOL_PARAMETERS.has(key) && !key.startsWith('triton_')) {
      invalid(`parameters.${key} is not a parameter of model ${model}; it takes ${spec.parameters.join(', ')} (and binary_data_output)`)
    }
  }
  const breakdown = booleanParam(parameters, 'breakdown', '') ?? false
  const k = parameters.hardest === undefined ? undefined : numberParam(parameters, 'hardest', 0, true)
  const raw = gather(model, request.inputs, frame.binary, frame.jsonLength)
  const asked = new Set<Need>()
  if (breakdown) asked.add('breakdown')
  if (k !== undefined) asked.add('hardest')
  // gather() has checked that both required inputs are there.
  const logitsRaw = raw.get('logits') as RawInput
  const labelsRaw = raw.get('labels') as RawInput
  if (logitsRaw.shape.length < 1 || logitsRaw.shape.length > 3) {
    invalid(`${logitsRaw.label} has shape ${shapeText(logitsRaw.shape)}; logits are [N, C], [N] or [N, C, T]`)
  }
  const logits = readFloats(logitsRaw)
  const input: LossInput = { logits, shape: logitsRaw.shape, labels: readLabels(labelsRaw, logitsRaw.shape) }
  const named = model === 'compare' && parameters.losses !== undefined
  if (isLossModel(model) || named) {
    const { losses, activation, reduction, classWeights } = isLossModel(model)
      ? decodeLossModel(model, parameters, raw, input)
      : decodeLossesParameter(parameters, raw, input)
    // Here class_counts may be a loss's own counts: class_weights exist only with class_balance_beta.
    if (classWeights !== undefined) asked.add('class_counts')
    const metrics = decodeMetricsParameters(parameters, raw)
    for (const need of metricNeeds(metrics, activation, input.shape, breakdown)) asked.add(need)
    const outputs = outputRequests(model, request, asked, named ? namedOutputs(losses.map((l) => l.label)) : MODELS[model].outputs)
    const analysis: Analysis = { activation, ignoreIndex: numberParam(parameters, 'ignore_index', DEFAULTS.ignoreIndex, true), breakdown, hardest: k, classWeights }
    return { model, request: { input, losses, analysis, name: v2Name, metrics }, reduction, outputs }
  }
  if (raw.has('class_counts')) asked.add('class_counts')
  const balanced = classWeights(raw, parameters, input.shape)
  const common: CommonOptions = {
    activation: stringParam(parameters, 'activation', ['softmax', 'sigmoid'], DEFAULTS.activation),
    reduction: stringParam(parameters, 'reduction', ['mean', 'sum', 'none'], DEFAULTS.reduction),
    ignoreIndex: numberParam(parameters, 'ignore_index', DEFAULTS.ignoreIndex, true),
    labelSmoothing: numberParam(parameters, 'label_smoothing', DEFAULTS.labelSmoothing)
  }
  const analysis: Analysis = { activation: common.activation, ignoreIndex: common.ignoreIndex, breakdown, hardest: k, classWeights: balanced }
  const metrics = decodeMetricsParameters(parameters, raw)
  for (const need of metricNeeds(metrics, common.activation, input.shape, breakdown)) asked.add(need)
  const outputs = outputRequests(model, request, asked)
  const ce = (): CrossEntropyOptions => crossEntropyOptionsOf(common, balanced ?? readVector(raw.get('weight')), readVector(raw.get('pos_weight')))
  const losses: NamedLoss[] = []
  if (model !== 'focal') losses.push({ label: 'ce', kind: 'ce', options: ce(), name: v2Name })
  if (model !== 'ce') losses.push({ label: 'focal', kind: 'focal', options: focalOptions(common, parameters, raw.get('alpha'), balanced), name: v2Name })
  return { model, request: { input, losses, analysis, name: v2Name, metrics }, reduction: common.reduction, outputs }
}
