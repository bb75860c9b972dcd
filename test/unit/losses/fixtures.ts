/**
 * Turns the golden requests of test/golden/losses.json (API field names, defaults left out) into
 * LossInput and LossSpec values, as the routes will.
 */
import { materialize, flatten, type Nested } from '../../golden/inputs.js'
import {
  ASYMMETRIC_DEFAULTS, LDAM_DEFAULTS, LOGIT_ADJUSTED_DEFAULTS, POLY_DEFAULTS, SEESAW_DEFAULTS,
  type CommonOptions, type LossInput, type LossKind, type LossSpec
} from '../../../src/losses/index.js'

export interface LossCase {
  name: string
  loss: LossKind
  request: Record<string, unknown>
  expected: { loss: unknown, sum: number, normalizer: number }
  reference: string
}

function shapeOf (v: unknown): number[] {
  const shape: number[] = []
  let cur = v
  while (Array.isArray(cur)) {
    shape.push(cur.length)
    cur = cur[0]
  }
  return shape
}

export function inputOf (request: Record<string, unknown>): LossInput {
  const logits = request.logits as Nested
  const labels = request.labels as Nested
  const shape = shapeOf(logits)
  const labelShape = shapeOf(labels)
  const values = flatten(labels)
  const index = labelShape.length === shape.length - 1
  return {
    logits: Float32Array.from(flatten(logits)),
    shape,
    labels: index
      ? { kind: 'index', data: Int32Array.from(values), shape: labelShape }
      : { kind: 'dense', data: Float32Array.from(values), shape: labelShape }
  }
}

const vec = (v: unknown): Float32Array | undefined => v === undefined ? undefined : Float32Array.from(v as number[])
const num = (v: unknown, d: number): number => v === undefined ? d : v as number

/** The request's options with the API defaults, for the case's loss. */
export function specOf (loss: LossKind, r: Record<string, unknown>): LossSpec {
  const common: CommonOptions = {
    activation: (r.activation as CommonOptions['activation'] | undefined) ?? 'softmax',
    reduction: (r.reduction as CommonOptions['reduction'] | undefined) ?? (loss === 'asymmetric' ? ASYMMETRIC_DEFAULTS.reduction : 'mean'),
    ignoreIndex: num(r.ignoreIndex, -100),
    labelSmoothing: num(r.labelSmoothing, 0)
  }
  const alpha = r.alpha === undefined ? POLY_DEFAULTS.alpha : r.alpha === null ? null : typeof r.alpha === 'number' ? r.alpha : Float32Array.from(r.alpha as number[])
  switch (loss) {
    case 'ce': return { kind: 'ce', options: { ...common, weight: vec(r.weight), posWeight: vec(r.posWeight) } }
    case 'focal': return { kind: 'focal', options: { ...common, gamma: num(r.gamma, 2), alpha, weight: vec(r.weight) } }
    case 'poly':
      return {
        kind: 'poly',
        options: {
          ...common,
          base: (r.base as 'ce' | 'focal' | undefined) ?? POLY_DEFAULTS.base,
          epsilon: num(r.epsilon, POLY_DEFAULTS.epsilon),
          gamma: num(r.gamma, POLY_DEFAULTS.gamma),
          alpha,
          weight: vec(r.weight),
          posWeight: vec(r.posWeight)
        }
      }
    case 'logit_adjusted':
      return { kind: 'logit_adjusted', options: { ...common, classCounts: vec(r.classCounts), tau: num(r.tau, LOGIT_ADJUSTED_DEFAULTS.tau), weight: vec(r.weight) } }
    case 'ldam':
      return {
        kind: 'ldam',
        options: { ...common, classCounts: vec(r.classCounts), maxMargin: num(r.maxMargin, LDAM_DEFAULTS.maxMargin), scale: num(r.scale, LDAM_DEFAULTS.scale), weight: vec(r.weight) }
      }
    case 'asymmetric':
      return {
        kind: 'asymmetric',
        options: {
          ...common,
          gammaPos: num(r.gammaPos, ASYMMETRIC_DEFAULTS.gammaPos),
          gammaNeg: num(r.gammaNeg, ASYMMETRIC_DEFAULTS.gammaNeg),
          clip: num(r.clip, ASYMMETRIC_DEFAULTS.clip),
          eps: num(r.eps, ASYMMETRIC_DEFAULTS.eps)
        }
      }
    case 'seesaw':
      return { kind: 'seesaw', options: { ...common, classCounts: vec(r.classCounts), p: num(r.p, SEESAW_DEFAULTS.p), q: num(r.q, SEESAW_DEFAULTS.q), eps: num(r.eps, SEESAW_DEFAULTS.eps) } }
  }
}

export function caseInput (c: LossCase): { input: LossInput, spec: LossSpec } {
  const request = materialize(c.request) as Record<string, unknown>
  return { input: inputOf(request), spec: specOf(c.loss, request) }
}
