export type Activation = 'softmax' | 'sigmoid'
export type Reduction = 'mean' | 'sum' | 'none'

/**
 * How the caller spells an option in messages: the JSON API's field names as they are, V2's
 * parameter and input names, `losses[2].gamma` inside a comparison. The core names every field
 * through one, so no transport rewrites a message afterwards.
 */
export type Namer = (field: string) => string

export const asGiven: Namer = (field) => field
/** Class indices, one per row (or per frame for temporal input): shape [N] or [N, T]. */
export interface IndexLabels {
  readonly kind: 'index'
  readonly data: Int32Array
  readonly shape: readonly number[]
}

/** Targets or probabilities with the logits' shape. */
export interface DenseLabels {
  readonly kind: 'dense'
  readonly data: Float32Array
  readonly shape: readonly number[]
}

export type Labels = IndexLabels | DenseLabels

/**
 * One batch, row-major. `shape` is [N] (binary, sigmoid only), [N, C], or [N, C, T] (temporal,
 * PyTorch's (N, C, d1) layout, softmax only).
 */
export interface LossInput {
  readonly logits: Float32Array
  readonly shape: readonly number[]
  readonly labels: Labels
}

export interface CommonOptions {
  readonly activation: Activation
  readonly reduction: Reduction
  readonly ignoreIndex: number
  readonly labelSmoothing: number
}

export interface CrossEntropyOptions extends CommonOptions {
  readonly weight?: Float32Array | undefined
  readonly posWeight?: Float32Array | undefined
}

export interface FocalOptions extends CommonOptions {
  readonly gamma: number
  /** Scalar, one value per class, or null for no balancing (torchvision's alpha = -1). */
  readonly alpha: number | Float32Array | null
  /**
   * Sigmoid only: a per-class multiplier of each column's loss. Class-balanced weights (Cui et al.)
   * arrive here, since torchvision's alpha must stay in [0, 1].
   */
  readonly weight?: Float32Array | undefined
}

/*
 * The options are built field by field rather than as `{ ...common, gamma, alpha }`: on Node 20's V8
 * an object spread followed by new properties takes 1-4 µs (measured: 3.4 µs against 13 ns for the
 * same object written out), as much as scanning a thousand numbers of a request.
 */

export function crossEntropyOptionsOf (common: CommonOptions, weight: Float32Array | undefined, posWeight: Float32Array | undefined): CrossEntropyOptions {
  return {
    activation: common.activation,
    reduction: common.reduction,
    ignoreIndex: common.ignoreIndex,
    labelSmoothing: common.labelSmoothing,
    weight,
    posWeight
  }
}

export function focalOptionsOf (common: CommonOptions, gamma: number, alpha: number | Float32Array | null, weight?: Float32Array): FocalOptions {
  return {
    activation: common.activation,
    reduction: common.reduction,
    ignoreIndex: common.ignoreIndex,
    labelSmoothing: common.labelSmoothing,
    gamma,
    alpha,
    weight
  }
}

export interface LossResult {
  readonly reduction: Reduction
  /** The mean or sum; null for a mean over nothing (NaN in PyTorch). Unused for `none`. */
  readonly loss: number | null
  /** Sum of the per-row (softmax) or per-element (sigmoid) losses, in float64. */
  readonly sum: number
  /** What `mean` divides by. */
  readonly normalizer: number
  /** Per-row (softmax: [N] or [N, T]) or per-element (sigmoid: the logits' shape) losses. */
  readonly values: Float32Array
  readonly valuesShape: readonly number[]
}

/**
 * Poly-1 (poly.ts): the base loss's own options plus epsilon. `weight` / `posWeight` go to a
 * cross-entropy base, `gamma` / `alpha` / `weight` to a focal one (unused otherwise).
 */
export interface PolyOptions extends CommonOptions {
  readonly base: 'ce' | 'focal'
  readonly epsilon: number
  readonly gamma: number
  readonly alpha: number | Float32Array | null
  readonly weight?: Float32Array | undefined
  readonly posWeight?: Float32Array | undefined
}

/** Logit adjustment (logit_adjusted.ts). */
export interface LogitAdjustedOptions extends CommonOptions {
  /** Training-set count per class: the priors are n_c / sum n. Required. */
  readonly classCounts: Float32Array | undefined
  readonly tau: number
  readonly weight?: Float32Array | undefined
}

/** LDAM (ldam.ts); DRW's class-balanced weights come in as `weight`. */
export interface LdamOptions extends CommonOptions {
  readonly classCounts: Float32Array | undefined
  readonly maxMargin: number
  readonly scale: number
  readonly weight?: Float32Array | undefined
}

/** Asymmetric loss (asymmetric.ts); activation must be "sigmoid". */
export interface AsymmetricOptions extends CommonOptions {
  readonly gammaPos: number
  readonly gammaNeg: number
  readonly clip: number
  readonly eps: number
}

/** Seesaw (seesaw.ts); `classCounts` is mmpretrain's `cum_samples`. */
export interface SeesawOptions extends CommonOptions {
  readonly classCounts: Float32Array | undefined
  readonly p: number
  readonly q: number
  readonly eps: number
}

// The defaults live with the others in defaults.ts, which the schemas may import.
export { POLY_DEFAULTS, LOGIT_ADJUSTED_DEFAULTS, LDAM_DEFAULTS, ASYMMETRIC_DEFAULTS, SEESAW_DEFAULTS } from './defaults.js'
