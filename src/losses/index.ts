/**
 * The losses, free of HTTP: plan a loss, run its kernel call (alone, or merged with others by the
 * engine), finish it. `crossEntropy` and `focalLoss` do all three synchronously.
 */
import { execute } from './kernels.js'
import { planCrossEntropy } from './cross_entropy.js'
import { planFocal } from './focal.js'
import type { Plan } from './plan.js'
import type { CrossEntropyOptions, FocalOptions, LossInput, LossResult } from './types.js'

export * from './types.js'
export { planCrossEntropy } from './cross_entropy.js'
export { planFocal } from './focal.js'
export { hardest, perClass, type Analysis, type ClassTotals, type HardRow } from './analysis.js'
export { balancedWeights, classBalancedFocal, classBalancedWeights, type ClassBalance } from './balance.js'
export { DEFAULTS } from './defaults.js'
export type { Plan, Prepared } from './plan.js'
export { withHeadsOf } from './kernels.js'
export { planPoly } from './poly.js'
export { planLogitAdjusted } from './logit_adjusted.js'
export { planLdam, ldamMargins } from './ldam.js'
export { planAsymmetric } from './asymmetric.js'
export { planSeesaw } from './seesaw.js'
export { planLoss, planMany, type LossKind, type LossSpec } from './many.js'
export type { KernelCall } from './kernels.js'
export { withRowStats, type RowStats } from './rowstats.js'

export function run<T> (plan: Plan<T>): T {
  return plan.finish(execute(plan.call))
}

export function crossEntropy (input: LossInput, options: CrossEntropyOptions): LossResult {
  return run(planCrossEntropy(input, options))
}

export function focalLoss (input: LossInput, options: FocalOptions): LossResult {
  return run(planFocal(input, options))
}
