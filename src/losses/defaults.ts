/** Defaults of the optional loss options; the schemas show them and every codec reads them here. */
export const DEFAULTS = {
  activation: 'softmax',
  reduction: 'mean',
  ignoreIndex: -100,
  labelSmoothing: 0,
  gamma: 2,
  alpha: 0.25
} as const
