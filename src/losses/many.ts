/**
 * Any set of losses of one batch (`/loss/compare` with a `losses` list): each loss is planned alone,
 * then the calls that have the same inputs and kernel kind (the raw logits: ce, focal, poly,
 * asymmetric with the same targets) become heads of one call, so they share one log-softmax (or one
 * set of softplus terms), and a head two of them compute alike runs once. Losses on modified logits
 * (logit_adjusted, ldam, seesaw) keep their own call; several calls run as one `multi` call. Results equal planning each loss alone, bit for bit.
 */

import { planAsymmetric } from './asymmetric.js'
import { planCrossEntropy } from './cross_entropy.js'
import { planFocal } from './focal.js'
import type { KernelCall, SigmoidHead, SingleCall, SoftmaxHead } from './kernels.js'
import { planLdam } from './ldam.js'
import { planLogitAdjusted } from './logit_adjusted.js'
import { sameHead, sameInputs, withHeadsOf } from './merge.js'
import type { Prepared } from './plan.js'
import { planPoly } from './poly.js'
import { planSeesaw } from './seesaw.js'
import { asGiven, type AsymmetricOptions, type CrossEntropyOptions, type FocalOptions, type LdamOptions, type LogitAdjustedOptions, type LossInput, type LossResult, type Namer, type PolyOptions, type SeesawOptions } from './types.js'

/** One loss of a comparison; `name` names its fields in error messages (e.g. f => `losses[2].${f}`). */
export type LossSpec =
  | { readonly kind: 'ce', readonly options: CrossEntropyOptions, readonly name?: Namer }
  | { readonly kind: 'focal', readonly options: FocalOptions, readonly name?: Namer }
  | { readonly kind: 'poly', readonly options: PolyOptions, readonly name?: Namer }
  | { readonly kind: 'logit_adjusted', readonly options: LogitAdjustedOptions, readonly name?: Namer }
  | { readonly kind: 'ldam', readonly options: LdamOptions, readonly name?: Namer }
  | { readonly kind: 'asymmetric', readonly options: AsymmetricOptions, readonly name?: Namer }
  | { readonly kind: 'seesaw', readonly options: SeesawOptions, readonly name?: Namer }

export type LossKind = LossSpec['kind']

/** Plans one loss of any kind. */
export function planLoss (input: LossInput, spec: LossSpec): Prepared<LossResult> {
  const name = spec.name ?? asGiven
  switch (spec.kind) {
    case 'ce': return planCrossEntropy(input, spec.options, name)
    case 'focal': return planFocal(input, spec.options, name)
    case 'poly': return planPoly(input, spec.options, name)
    case 'logit_adjusted': return planLogitAdjusted(input, spec.options, name)
    case 'ldam': return planLdam(input, spec.options, name)
    case 'asymmetric': return planAsymmetric(input, spec.options, name)
    case 'seesaw': return planSeesaw(input, spec.options, name)
  }
}

function headCount (call: KernelCall): number {
  return call.kind === 'multi' ? call.parts.reduce((n, p) => n + headCount(p), 0) : call.heads.length
}

/** `call` with those heads of `own` (a call over the same inputs) that it does not compute yet; where each of own's heads is. */
function addHeads (call: SingleCall, own: SingleCall): { call: SingleCall, at: number[] } {
  const sigmoid = call.kind === 'sigmoid'
  const heads: Array<SoftmaxHead | SigmoidHead> = [...call.heads]
  const fresh: Array<SoftmaxHead | SigmoidHead> = []
  const at = (own.heads as ReadonlyArray<SoftmaxHead | SigmoidHead>).map((h) => {
    const found = heads.findIndex((g) => sameHead(g, h, sigmoid))
    if (found >= 0) return found
    heads.push(h)
    fresh.push(h)
    return heads.length - 1
  })
  if (fresh.length === 0) return { call, at }
  return { call: withHeadsOf(call, { ...own, heads: fresh } as SingleCall) as SingleCall, at }
}

/**
 * The losses of `specs` on one batch, in their order, from as few kernel calls as their inputs allow;
 * a head two losses share (cross-entropy and Poly-1's cross-entropy term) is computed once.
 */
export function planMany (input: LossInput, specs: readonly LossSpec[]): Prepared<LossResult[]> {
  if (specs.length === 0) throw new Error('planMany needs at least one loss')
  const plans = specs.map((spec) => planLoss(input, spec))
  const calls: SingleCall[] = []
  const where: Array<{ call: number, heads: number[] }> = []
  for (const plan of plans) {
    const own = plan.call as SingleCall
    const k = calls.findIndex((c) => sameInputs(c, own))
    if (k < 0) {
      where.push({ call: calls.length, heads: own.heads.map((_, h) => h) })
      calls.push(own)
    } else {
      const { call, at } = addHeads(calls[k] as SingleCall, own)
      where.push({ call: k, heads: at })
      calls[k] = call
    }
  }
  const firstHead: number[] = []
  calls.reduce((n, c) => { firstHead.push(n); return n + headCount(c) }, 0)
  const first = calls[0] as SingleCall
  const call: KernelCall = calls.length === 1 ? first : { kind: 'multi', rows: first.rows, classes: first.classes, parts: calls }
  return {
    call,
    finish: (outputs, offset = 0) => plans.map((plan, i) => {
      const at = where[i] as { call: number, heads: number[] }
      const base = offset + (firstHead[at.call] as number)
      return plan.finish(at.heads.map((h) => outputs[base + h] as Float32Array), 0)
    })
  }
}
