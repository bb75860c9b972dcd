/**
 * Cross-entropy and focal loss of one batch in one pass: both loss terms are heads of a single
 * kernel call, so the log-softmax (or the softplus terms) are computed once.
 */
import { planCrossEntropy } from './cross_entropy.js'
import { planFocal } from './focal.js'
import { withHeadsOf } from './kernels.js'
import type { Plan } from './plan.js'
import type { CrossEntropyOptions, FocalOptions, LossInput, LossResult } from './types.js'

export interface Comparison {
  readonly ce: LossResult
  readonly focal: LossResult
}

export function planCompare (input: LossInput, ce: CrossEntropyOptions, focal: FocalOptions): Plan<Comparison> {
  const a = planCrossEntropy(input, ce)
  const b = planFocal(input, focal)
  return {
    call: withHeadsOf(a.call, b.call),
    finish: (outputs) => ({ ce: a.finish(outputs, 0), focal: b.finish(outputs, 1) })
  }
}
