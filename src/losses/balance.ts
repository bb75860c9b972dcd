/**
 * Class-balanced weights (Cui et al. 2019) and the rule for how they replace a loss's own weights.
 */
import { invalid } from '../errors.js'
import { asGiven, focalOptionsOf, type CommonOptions, type FocalOptions, type Namer } from './types.js'

export interface ClassBalance {
  /** Training samples per class. */
  readonly counts: readonly number[]
  readonly beta: number
}

/**
 * Class-balanced weights (Cui et al. 2019, "Class-Balanced Loss Based on Effective Number of
 * Samples", eq. 7): w_c = (1 - beta) / (1 - beta^n_c), normalised to sum to C.
 * @see https://arxiv.org/abs/1901.05555
 */
export function classBalancedWeights (counts: readonly number[], beta: number, classes: number, name: Namer = asGiven): Float64Array {
  if (counts.length !== classes) invalid(`${name('classBalance.counts')} has ${counts.length} values, expected ${classes} (one per class)`)
  if (!(beta >= 0 && beta < 1)) invalid(`${name('classBalance.beta')} = ${beta} is outside [0, 1)`)
  const raw = new Float64Array(classes)
  let total = 0
  counts.forEach((n, c) => {
    if (!(Number.isFinite(n) && n > 0)) invalid(`${name('classBalance.counts')}[${c}] = ${n} must be > 0 (a class with no samples has no effective number)`)
    // 1 - beta^n as -expm1(n log beta): exact for beta close to 1, where the method is used.
    raw[c] = beta === 0 ? 1 : (1 - beta) / -Math.expm1(n * Math.log(beta))
    total += raw[c] ?? 0
  })
  return raw.map((w) => w * classes / total)
}

/**
 * Focal options with class-balanced weights in place of alpha (Cui et al.): softmax takes them as the
 * per-class alpha; torchvision's sigmoid alpha must stay in [0, 1], so sigmoid takes them as a
 * per-class multiplier with alpha off.
 */
export function classBalancedFocal (common: CommonOptions, gamma: number, weights: Float32Array): FocalOptions {
  return common.activation === 'sigmoid' ? focalOptionsOf(common, gamma, null, weights) : focalOptionsOf(common, gamma, weights)
}

/**
 * The class-balanced weights a request asks for, as float32 (what the kernels use, and what the
 * reply echoes), or undefined. They replace `weight` and `alpha`: giving either as well is an error.
 */
export function balancedWeights (balance: ClassBalance | undefined, given: { readonly weight: boolean, readonly alpha: boolean }, classes: number, name: Namer = asGiven): Float32Array | undefined {
  if (balance === undefined) return undefined
  for (const other of ['weight', 'alpha'] as const) {
    if (given[other]) {
      invalid(`${name('classBalance')} and ${name(other)} are mutually exclusive: ${name('classBalance')} computes the ${other === 'weight' ? 'weights' : 'per-class alpha'}`)
    }
  }
  return Float32Array.from(classBalancedWeights(balance.counts, balance.beta, classes, name))
}
