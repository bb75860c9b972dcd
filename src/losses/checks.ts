/**
 * Argument checks shared by the losses. Messages name the argument as the API names it and the
 * offending index, because they reach the client unchanged as 400 answers.
 */
import { at, invalid } from '../errors.js'
import { asGiven, type Activation, type CommonOptions, type LossInput, type Namer } from './types.js'

/** The batch laid out as rows of class scores: [N, C] as is, [N] as [N, 1], [N, C, T] as [N*T, C]. */
export interface Layout {
  readonly rows: number
  readonly classes: number
  /** Softmax: one loss per row, shaped [N] or [N, T]. Sigmoid: the logits' shape. */
  readonly valuesShape: readonly number[]
  /** Present for [N, C, T] input: T. */
  readonly frames: number | undefined
}

export function checkInput (input: LossInput, activation: Activation): Layout {
  const { shape, labels } = input
  const n = shape[0] ?? 0
  if (shape.length < 1 || shape.length > 3) invalid(`logits must have 1, 2 or 3 dimensions, got ${shape.length}`)
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) invalid(`logits must not be empty, got shape [${shape.join(', ')}]`)
  const size = shape.reduce((a, b) => a * b, 1)
  if (input.logits.length !== size) invalid(`logits has ${input.logits.length} values, expected ${size} for shape [${shape.join(', ')}]`)
  if (shape.length === 1 && activation !== 'sigmoid') invalid('logits of shape [N] need activation "sigmoid" (binary)')
  if (shape.length === 3 && activation !== 'softmax') invalid('logits of shape [N, C, T] need activation "softmax"')

  const expected = labels.kind === 'dense'
    ? shape
    : shape.length === 3 ? [n, shape[2] ?? 1] : shape.length === 2 ? [n] : undefined
  if (expected === undefined) invalid('labels for logits of shape [N] must be targets in [0, 1], not class indices')
  else if (labels.shape.length !== expected.length || labels.shape.some((d, i) => d !== expected[i])) {
    invalid(`labels has shape [${labels.shape.join(', ')}], expected [${expected.join(', ')}]`)
  }
  if (labels.data.length !== size / (labels.kind === 'dense' ? 1 : (shape[1] ?? 1))) {
    invalid(`labels has ${labels.data.length} values, expected ${labels.shape.reduce((a, b) => a * b, 1)}`)
  }

  if (shape.length === 1) return { rows: n, classes: 1, valuesShape: shape, frames: undefined }
  const classes = shape[1] ?? 1
  if (shape.length === 2) {
    return { rows: n, classes, valuesShape: activation === 'softmax' ? [n] : shape, frames: undefined }
  }
  const frames = shape[2] ?? 1
  return { rows: n * frames, classes, valuesShape: [n, frames], frames }
}

export function checkCommon (options: CommonOptions, name: Namer = asGiven): void {
  checkScalar(name('labelSmoothing'), options.labelSmoothing, 0, 1)
  if (!Number.isSafeInteger(options.ignoreIndex)) invalid(`${name('ignoreIndex')} = ${options.ignoreIndex} must be an integer`)
}

export function checkScalar (name: string, value: number, min: number, max = Infinity): void {
  if (!Number.isFinite(value)) invalid(`${name} must be a finite number`)
  if (value < min || value > max) {
    invalid(max === Infinity ? `${name} = ${value} must be >= ${min}` : `${name} = ${value} is outside [${min}, ${max}]`)
  }
}

/** Labels must be in [0, classes) or equal ignoreIndex. */
export function checkIndexLabels (data: Int32Array, shape: readonly number[], classes: number, ignoreIndex: number): void {
  for (let i = 0; i < data.length; i++) {
    const y = data[i] as number
    if ((y < 0 || y >= classes) && y !== ignoreIndex) {
      invalid(`${at('labels', i, shape)} = ${y} is outside [0, ${classes})`)
    }
  }
}

export function checkUnitInterval (name: string, data: Float32Array, shape: readonly number[]): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number
    if (!(v >= 0 && v <= 1)) invalid(`${at(name, i, shape)} = ${v} is outside [0, 1]`)
  }
}

/** A per-class vector: `classes` finite values in [min, max]. */
export function checkVector (name: string, v: Float32Array, classes: number, min: number, max = Infinity): void {
  if (v.length !== classes) invalid(`${name} has ${v.length} values, expected ${classes} (one per class)`)
  for (let c = 0; c < v.length; c++) {
    const value = v[c] as number
    if (!Number.isFinite(value) || value < min || value > max) {
      invalid(`${name}[${c}] = ${value} is outside [${min}, ${max === Infinity ? '∞' : max}${max === Infinity ? ')' : ']'}`)
    }
  }
}

/**
 * Class counts: one finite value >= 0 per class (> 0 when `positive` says why a zero has no finite
 * answer).
 */
export function checkCounts (name: string, counts: Float32Array | undefined, classes: number, positive?: string): Float32Array {
  if (counts === undefined) return invalid(`${name} is required`)
  if (counts.length !== classes) invalid(`${name} has ${counts.length} values, expected ${classes} (one per class)`)
  for (let c = 0; c < counts.length; c++) {
    const n = counts[c] as number
    if (!Number.isFinite(n)) invalid(`${name}[${c}] = ${n} must be a finite number`)
    if (n < 0) invalid(`${name}[${c}] = ${n} must be >= 0`)
    if (positive !== undefined && n === 0) invalid(`${name}[${c}] = 0 must be > 0 (${positive})`)
  }
  return counts
}

/** A scalar option with an open upper bound: `${name} = 1 is outside [0, 1)`. */
export function checkHalfOpen (name: string, value: number, min: number, max: number): void {
  if (!Number.isFinite(value)) invalid(`${name} must be a finite number`)
  if (value < min || value >= max) invalid(`${name} = ${value} is outside [${min}, ${max})`)
}

/** A scalar option that must be strictly positive. */
export function checkPositive (name: string, value: number): void {
  if (!Number.isFinite(value)) invalid(`${name} must be a finite number`)
  if (value <= 0) invalid(`${name} = ${value} must be > 0`)
}

/** Losses defined for one layout only. */
export function checkLayout (layout: Layout, input: LossInput, loss: string, indexOnly: boolean): void {
  if (layout.frames !== undefined) invalid(`${loss} takes logits of shape [N, C], got [${input.shape.join(', ')}]`)
  if (indexOnly && input.labels.kind !== 'index') invalid(`${loss} takes class-index labels of shape [N], not probabilities`)
}

/**
 * The input of a softmax loss with class-index labels on [N, C] and no label smoothing (LDAM and
 * seesaw): its layout, or an error naming what the reference does not define.
 */
export function checkIndexSoftmax (input: LossInput, options: CommonOptions, loss: string, title: string, name: Namer): Layout {
  if (options.activation !== 'softmax') invalid(`${name('activation')} must be "softmax": ${title} is a softmax loss`)
  if (options.labelSmoothing !== 0) invalid(`${name('labelSmoothing')} = ${options.labelSmoothing} must be 0: ${title} has no label smoothing`)
  const layout = checkInput(input, options.activation)
  checkLayout(layout, input, loss, true)
  return layout
}
