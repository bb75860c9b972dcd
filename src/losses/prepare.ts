/**
 * Shared preparation: the batch as rows, class-index rows with their ignore mask, targets with label
 * smoothing applied. Pure JS over typed arrays, one pass each.
 */
import { checkCommon, checkIndexLabels, checkInput, checkUnitInterval, type Layout } from './checks.js'
import { asGiven, type CommonOptions, type IndexLabels, type LossInput, type Namer } from './types.js'
import { float32, int32 } from '../arrays.js'

export interface Batch {
  readonly layout: Layout
  /** Present for class-index labels. */
  readonly index: IndexRows | undefined
  /** The logits as [rows, classes]. */
  readonly x: Float32Array
}

/** The checks every loss makes of its input and labels, and the batch laid out as rows. */
export function prepareBatch (input: LossInput, options: CommonOptions, name: Namer = asGiven): Batch {
  const layout = checkInput(input, options.activation)
  checkCommon(options, name)
  const { labels } = input
  let index: IndexRows | undefined
  if (labels.kind === 'index') {
    checkIndexLabels(labels.data, labels.shape, layout.classes, options.ignoreIndex)
    index = indexRows(labels, options.ignoreIndex)
  } else {
    checkUnitInterval('labels', labels.data, labels.shape)
  }
  return { layout, index, x: asRows(input.logits, layout) }
}

/** Logits (or dense labels) as [rows, classes]: [N, C, T] is transposed to [N*T, C]. */
export function asRows (data: Float32Array, layout: Layout): Float32Array {
  const { frames, classes } = layout
  if (frames === undefined) return data
  const n = layout.rows / frames
  const out = float32(data.length)
  for (let i = 0; i < n; i++) {
    const src = i * classes * frames
    for (let c = 0; c < classes; c++) {
      const from = src + c * frames
      let to = i * frames * classes + c
      for (let t = 0; t < frames; t++, to += classes) out[to] = data[from + t] as number
    }
  }
  return out
}

export interface IndexRows {
  /** The label of each row, ignored rows replaced by class 0. */
  readonly target: Int32Array
  /** 1 for rows that count; undefined when every row counts. */
  readonly keep: Uint8Array | undefined
  readonly kept: number
}

export function indexRows (labels: IndexLabels, ignoreIndex: number): IndexRows {
  const { data } = labels
  let keep: Uint8Array | undefined
  let kept = data.length
  for (let i = 0; i < data.length; i++) {
    if (data[i] === ignoreIndex) {
      keep ??= new Uint8Array(data.length).fill(1)
      keep[i] = 0
      kept--
    }
  }
  if (keep === undefined) return { target: data, keep, kept }
  const target = int32(data.length)
  for (let i = 0; i < data.length; i++) target[i] = keep[i] === 1 ? data[i] as number : 0
  return { target, keep, kept }
}

/**
 * Dense per-element coefficients for softmax heads: coef_ic = scale_c * t'_ic, with t' the one-hot
 * (index labels) or given targets smoothed to t(1 - eps) + eps/C; the one-hot part may carry an extra
 * row factor (PyTorch's weight[y_i] on the NLL part). Ignored rows stay 0.
 */
export function softmaxCoefficients (
  input: LossInput,
  layout: Layout,
  index: IndexRows | undefined,
  smoothing: number,
  scale: (c: number) => number,
  rowFactor: (y: number) => number
): Float32Array {
  const { rows, classes } = layout
  const coef = float32(rows * classes)
  const uniform = smoothing / classes
  if (index !== undefined) {
    for (let i = 0; i < rows; i++) {
      if (index.keep !== undefined && index.keep[i] === 0) continue
      const base = i * classes
      if (uniform > 0) for (let c = 0; c < classes; c++) coef[base + c] = uniform * scale(c)
      const y = index.target[i] as number
      coef[base + y] = (coef[base + y] as number) + (1 - smoothing) * rowFactor(y)
    }
    return coef
  }
  const t = asRows(input.labels.data as Float32Array, layout)
  for (let i = 0, k = 0; i < rows; i++) {
    for (let c = 0; c < classes; c++, k++) coef[k] = scale(c) * ((t[k] as number) * (1 - smoothing) + uniform)
  }
  return coef
}

/** Sigmoid targets: one-hot for index labels, then t(1 - eps) + eps/2 (Keras / tfjs smoothing). */
export function sigmoidTargets (input: LossInput, layout: Layout, index: IndexRows | undefined, smoothing: number): Float32Array {
  const { rows, classes } = layout
  const off = smoothing / 2
  if (index !== undefined) {
    const t = float32(rows * classes)
    if (off > 0) t.fill(off)
    for (let i = 0; i < rows; i++) t[i * classes + (index.target[i] as number)] = 1 - off
    return t
  }
  const t = input.labels.data as Float32Array
  if (smoothing === 0) return t
  const out = float32(t.length)
  for (let k = 0; k < t.length; k++) out[k] = (t[k] as number) * (1 - smoothing) + off
  return out
}

/**
 * Writes a row of modified logits, computed in float64, as float32 values minus the row's maximum:
 * log-softmax only depends on the differences, and rounding after the shift keeps the logits near the
 * maximum (the ones that decide the loss) exact to float32 even when |x| is large.
 */
export function writeShifted (row: Float64Array, out: Float32Array, offset: number): void {
  let max = -Infinity
  for (let c = 0; c < row.length; c++) if ((row[c] as number) > max) max = row[c] as number
  for (let c = 0; c < row.length; c++) out[offset + c] = (row[c] as number) - max
}
