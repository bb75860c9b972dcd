/**
 * LDAM loss (Cao et al. 2019, "Learning Imbalanced Datasets with Label-Distribution-Aware Margin
 * Loss", NeurIPS), exactly `LDAMLoss` of kaidic/LDAM-DRW `losses.py`:
 *   m_c = 1 / sqrt(sqrt(n_c)), m = m * (maxMargin / max(m)), stored as float32 (its m_list is a
 *   torch.cuda.FloatTensor); x'_ic = x_ic - m_y [c = y]; loss = F.cross_entropy(s x', y, weight).
 *
 * softmax only, logits [N, C], class-index labels [N]. Values and denominators are cross_entropy.ts's
 * on s x': `mean` = sum_i w[y_i] l_i / sum_i w[y_i] over rows not ignored. The reference has no
 * ignore_index (its scatter_ fails on -100): ignored rows get no margin and count as in
 * F.cross_entropy. DRW's class-balanced weights arrive as `weight`. Every count must be > 0: a zero
 * makes the margin infinite and the reference NaN on every row. s x' is computed in float64 and shifted
 * by its row maximum before rounding to float32 (writeShifted).
 *
 * @see https://github.com/kaidic/LDAM-DRW/blob/master/losses.py
 */
import { float32 } from '../arrays.js'
import { checkCounts, checkIndexSoftmax, checkPositive, checkScalar } from './checks.js'
import { planCrossEntropy } from './cross_entropy.js'
import type { Prepared } from './plan.js'
import { writeShifted } from './prepare.js'
import { asGiven, crossEntropyOptionsOf, type LdamOptions, type LossInput, type LossResult, type Namer } from './types.js'

/** The reference's margins: numpy float64 arithmetic, then float32. */
export function ldamMargins (counts: Float32Array, maxMargin: number): Float32Array {
  const m = Float64Array.from(counts, (n) => 1 / Math.sqrt(Math.sqrt(n)))
  let max = -Infinity
  for (const v of m) if (v > max) max = v
  const k = maxMargin / max
  return Float32Array.from(m, (v) => v * k)
}

export function planLdam (input: LossInput, options: LdamOptions, name: Namer = asGiven): Prepared<LossResult> {
  const { rows, classes } = checkIndexSoftmax(input, options, 'ldam', 'LDAM', name)
  const counts = checkCounts(name('classCounts'), options.classCounts, classes, "LDAM's margin n^(-1/4) is infinite at 0")
  checkScalar(name('maxMargin'), options.maxMargin, 0)
  checkPositive(name('scale'), options.scale)
  const margin = ldamMargins(counts, options.maxMargin)
  const s = options.scale
  const labels = input.labels.data as Int32Array
  const { logits } = input
  const x = float32(rows * classes)
  const row = new Float64Array(classes)
  for (let i = 0; i < rows; i++) {
    const base = i * classes
    for (let c = 0; c < classes; c++) row[c] = s * (logits[base + c] as number)
    const y = labels[i] as number
    if (y >= 0 && y < classes && y !== options.ignoreIndex) row[y] = s * ((logits[base + y] as number) - (margin[y] as number))
    writeShifted(row, x, base)
  }
  return planCrossEntropy({ logits: x, shape: input.shape, labels: input.labels }, crossEntropyOptionsOf(options, options.weight, undefined), name)
}
