/**
 * A JSON API body as the dataplane's request: the batch through the array decoder, the options with
 * their defaults, class-balanced weights by the core's rule. Field names are the body's own, so the
 * core's messages need no translation.
 */
import type { NamedLoss, ScoreRequest } from '../../dataplane/index.js'
import {
  asGiven, balancedWeights, classBalancedFocal, crossEntropyOptionsOf, DEFAULTS, focalOptionsOf,
  type Analysis, type CommonOptions, type CrossEntropyOptions, type FocalOptions, type LossInput
} from '../../losses/index.js'
import type { CompareBody, CrossEntropyBody, FocalBody } from '../../../schemas/loss.js'
import { decodeFloats, decodeLabels, decodeVector } from './arrays.js'
import { decodeMetrics } from './metrics.js'

export function decodeInput (body: { logits: unknown, labels: unknown }): LossInput {
  const logits = decodeFloats('logits', body.logits)
  return { logits: logits.data, shape: logits.shape, labels: decodeLabels(body.labels, logits.shape) }
}

function commonOptions (body: CompareBody): CommonOptions {
  return {
    activation: body.activation ?? DEFAULTS.activation,
    reduction: body.reduction ?? DEFAULTS.reduction,
    ignoreIndex: body.ignoreIndex ?? DEFAULTS.ignoreIndex,
    labelSmoothing: body.labelSmoothing ?? DEFAULTS.labelSmoothing
  }
}

/** The class-balanced weights a body asks for (they replace `weight` and `alpha`), or undefined. */
export function classWeights (body: CompareBody, shape: readonly number[]): Float32Array | undefined {
  return balancedWeights(body.classBalance, { weight: body.weight !== undefined, alpha: body.alpha !== undefined }, shape.length === 1 ? 1 : shape[1] ?? 1)
}

export function crossEntropyOptions (body: CrossEntropyBody, balanced?: Float32Array): CrossEntropyOptions {
  return crossEntropyOptionsOf(commonOptions(body), balanced ?? decodeVector('weight', body.weight), decodeVector('posWeight', body.posWeight))
}

export function focalOptions (body: FocalBody, balanced?: Float32Array): FocalOptions {
  const common = commonOptions(body)
  const gamma = body.gamma ?? DEFAULTS.gamma
  if (balanced !== undefined) return classBalancedFocal(common, gamma, balanced)
  const alpha = body.alpha === undefined ? DEFAULTS.alpha : Array.isArray(body.alpha) ? decodeVector('alpha', body.alpha) ?? null : body.alpha
  return focalOptionsOf(common, gamma, alpha)
}

export function analysisOf (body: CompareBody, classWeights: Float32Array | undefined): Analysis {
  return {
    activation: body.activation ?? DEFAULTS.activation,
    ignoreIndex: body.ignoreIndex ?? DEFAULTS.ignoreIndex,
    breakdown: body.breakdown ?? false,
    hardest: body.hardest,
    classWeights
  }
}

/** Which losses a route scores: /loss/ce, /loss/focal, or both side by side (/loss/compare). */
export type JsonModel = 'ce' | 'focal' | 'compare'

/** The body of a loss route as the dataplane's request. */
export function scoreRequest (model: JsonModel, body: CompareBody): ScoreRequest {
  return requestFor(model, body, decodeInput(body))
}

/** The options of a body applied to a batch already decoded (a run's batch, from JSON or V2). */
export function requestFor (model: JsonModel, body: CompareBody, input: LossInput): ScoreRequest {
  const balanced = classWeights(body, input.shape)
  const losses: NamedLoss[] = []
  if (model !== 'focal') losses.push({ label: 'ce', kind: 'ce', options: crossEntropyOptions(body, balanced) })
  if (model !== 'ce') losses.push({ label: 'focal', kind: 'focal', options: focalOptions(body, balanced) })
  return { input, losses, analysis: analysisOf(body, balanced), name: asGiven, metrics: decodeMetrics(body) }
}
