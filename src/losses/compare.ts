/**
 * Cross-entropy and focal loss of one batch in one pass: both loss terms are heads of a single
 * kernel call, so the log-softmax (or the softplus terms) are computed once.
 */
import { prepareCrossEntropy } from './cross_entropy.js'
import { prepareFocal } from './focal.js'
import { withHeadsOf } from './kernels.js'
import type { Plan } from './plan.js'
import type { CrossEntropyOptions, FocalOptions, LossInput, LossResult } from './types.js'

export interface Comparison {
  readonly ce: LossResult
  readonly focal: LossResult
}

export function planCompare (input: LossInput, ce: CrossEntropyOptions, focal: FocalOptions): Plan<Comparison> {
  const a = prepareCrossEntropy(input, ce)
  const b = prepareFocal(input, focal)
  return {
    call: withHeadsOf(a.call, b.call),
    finish: (outputs) => ({ ce: a.finish(outputs, 0), focal: b.finish(outputs, 1) })
  }
}
