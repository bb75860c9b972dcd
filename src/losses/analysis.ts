/**
 * Where the loss comes from: per-class sums, the hardest rows, and class-balanced weights. Pure JS
 * over a finished LossResult (float64 sums); no tfjs.
 */
import { InvalidInputError } from '../errors.js'
import { checkInput } from './checks.js'
import { asRows } from './prepare.js'
import { focalOptionsOf, type Activation, type CommonOptions, type FocalOptions, type LossInput, type LossResult } from './types.js'

export interface ClassTotals {
  readonly class: number
  /** softmax: rows labelled with the class; sigmoid: rows whose target for the class is >= 0.5. */
  readonly count: number
  readonly sum: number
  /** softmax: sum / count; sigmoid: sum / rows that count. null when the divisor is 0. */
  readonly mean: number | null
}

export interface HardRow {
  /** Row index n, or [n, t] for temporal input. */
  readonly index: number | [number, number]
  /** The class index (the largest target for probability labels). */
  readonly label: number
  readonly loss: number
}

/** The class of each row: its label, or the argmax of its targets; -1 for ignored rows. */
function rowClasses (input: LossInput, activation: Activation, ignoreIndex: number): Int32Array {
  const layout = checkInput(input, activation)
  const { rows, classes } = layout
  const out = new Int32Array(rows)
  if (input.labels.kind === 'index') {
    input.labels.data.forEach((y, i) => { out[i] = y === ignoreIndex ? -1 : y })
    return out
  }
  const t = asRows(input.labels.data, layout)
  for (let i = 0; i < rows; i++) {
    let best = 0
    for (let c = 1; c < classes; c++) if ((t[i * classes + c] ?? 0) > (t[i * classes + best] ?? 0)) best = c
    out[i] = best
  }
  return out
}

/** Per-row losses: the values for softmax, row sums of the element losses for sigmoid. */
function rowLosses (result: LossResult, rows: number): Float64Array {
  const width = result.values.length / rows
  const out = new Float64Array(rows)
  for (let i = 0, k = 0; i < rows; i++) {
    let s = 0
    for (let c = 0; c < width; c++, k++) s += result.values[k] ?? 0
    out[i] = s
  }
  return out
}

export function perClass (result: LossResult, input: LossInput, activation: Activation, ignoreIndex: number): ClassTotals[] {
  const { rows, classes } = checkInput(input, activation)
  const label = rowClasses(input, activation, ignoreIndex)
  const sums = new Float64Array(classes)
  const counts = new Float64Array(classes)
  if (activation === 'softmax') {
    const loss = rowLosses(result, rows)
    for (let i = 0; i < rows; i++) {
      const y = label[i] ?? -1
      if (y < 0) continue
      counts[y] = (counts[y] ?? 0) + 1
      sums[y] = (sums[y] ?? 0) + (loss[i] ?? 0)
    }
    return Array.from(sums, (sum, c) => ({ class: c, count: counts[c] ?? 0, sum, mean: counts[c] === 0 ? null : sum / (counts[c] ?? 1) }))
  }
  const targets = input.labels.kind === 'dense' ? input.labels.data : undefined
  let kept = 0
  for (let i = 0; i < rows; i++) {
    if (targets === undefined && label[i] === -1) continue
    kept++
    for (let c = 0; c < classes; c++) {
      const k = i * classes + c
      sums[c] = (sums[c] ?? 0) + (result.values[k] ?? 0)
      const positive = targets === undefined ? label[i] === c : (targets[k] ?? 0) >= 0.5
      if (positive) counts[c] = (counts[c] ?? 0) + 1
    }
  }
  return Array.from(sums, (sum, c) => ({ class: c, count: counts[c] ?? 0, sum, mean: kept === 0 ? null : sum / kept }))
}

/** The k rows (frames, for temporal input) with the largest loss, largest first, ties by lower index. */
export function hardest (result: LossResult, input: LossInput, activation: Activation, ignoreIndex: number, k: number): HardRow[] {
  const layout = checkInput(input, activation)
  const { rows, frames } = layout
  if (!Number.isInteger(k) || k < 1 || k > rows) {
    throw new InvalidInputError(`hardest = ${k} is outside [1, ${rows}] (the number of ${frames === undefined ? 'rows' : 'frames'})`)
  }
  const label = rowClasses(input, activation, ignoreIndex)
  const loss = rowLosses(result, rows)
  const order: number[] = []
  for (let i = 0; i < rows; i++) if (label[i] !== -1) order.push(i)
  order.sort((a, b) => (loss[b] ?? 0) - (loss[a] ?? 0) || a - b)
  return order.slice(0, k).map((i) => ({
    index: frames === undefined ? i : [Math.floor(i / frames), i % frames],
    label: label[i] ?? -1,
    loss: loss[i] ?? 0
  }))
}

/**
 * Class-balanced weights (Cui et al. 2019, "Class-Balanced Loss Based on Effective Number of
 * Samples", eq. 7): w_c = (1 - beta) / (1 - beta^n_c), normalised to sum to C.
 * @see https://arxiv.org/abs/1901.05555
 */
export function classBalancedWeights (counts: readonly number[], beta: number, classes: number): Float64Array {
  if (counts.length !== classes) throw new InvalidInputError(`classBalance.counts has ${counts.length} values, expected ${classes} (one per class)`)
  if (!(beta >= 0 && beta < 1)) throw new InvalidInputError(`classBalance.beta = ${beta} is outside [0, 1)`)
  const raw = new Float64Array(classes)
  let total = 0
  counts.forEach((n, c) => {
    if (!(Number.isFinite(n) && n > 0)) throw new InvalidInputError(`classBalance.counts[${c}] = ${n} must be > 0 (a class with no samples has no effective number)`)
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
