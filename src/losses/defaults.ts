/** Defaults of the optional loss options; the schemas show them and every codec reads them here. */
export const DEFAULTS = {
  activation: 'softmax',
  reduction: 'mean',
  ignoreIndex: -100,
  labelSmoothing: 0,
  gamma: 2,
  alpha: 0.25
} as const

export const POLY_DEFAULTS = { base: 'ce', epsilon: 1, gamma: 2, alpha: 0.25 } as const
export const LOGIT_ADJUSTED_DEFAULTS = { tau: 1 } as const
export const LDAM_DEFAULTS = { maxMargin: 0.5, scale: 30 } as const
export const ASYMMETRIC_DEFAULTS = { gammaPos: 1, gammaNeg: 4, clip: 0.05, eps: 1e-8, reduction: 'sum' } as const
export const SEESAW_DEFAULTS = { p: 0.8, q: 2, eps: 1e-2 } as const
