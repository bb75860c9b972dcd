/**
 * Where the loss comes from: per-class sums and the hardest rows. Pure JS over a finished
 * LossResult (float64 sums); no tfjs.
 */
import { invalid } from '../errors.js'
import { checkInput } from './checks.js'
import { asRows } from './prepare.js'
import { asGiven, type Activation, type LossInput, type LossResult, type Namer } from './types.js'

/** What a request asks to see besides the loss, whichever transport it came by. */
export interface Analysis {
  readonly activation: Activation
  readonly ignoreIndex: number
  readonly breakdown: boolean
  /** The k rows with the largest loss, or undefined. */
  readonly hardest: number | undefined
  /** The class-balanced weights the losses used (balance.ts), echoed in the reply. */
  readonly classWeights: Float32Array | undefined
}

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
export function hardest (result: LossResult, input: LossInput, activation: Activation, ignoreIndex: number, k: number, name: Namer = asGiven): HardRow[] {
  const layout = checkInput(input, activation)
  const { rows, frames } = layout
  if (!Number.isInteger(k) || k < 1 || k > rows) {
    invalid(`${name('hardest')} = ${k} is outside [1, ${rows}] (the number of ${frames === undefined ? 'rows' : 'frames'})`)
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
