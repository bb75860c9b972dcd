/**
 * Seesaw loss (Wang et al. 2021, "Seesaw Loss for Long-Tailed Instance Segmentation", CVPR), exactly
 * the function `seesaw_ce_loss` of open-mmlab/mmpretrain `mmpretrain/models/losses/seesaw_loss.py`:
 * for a row labelled i and every other class j, z_j = x_j + log(M_ij C_ij), z_i = x_i, then CE(z, i);
 *   mitigation   M_ij = (N_j / N_i)^p where N_j < N_i, else 1 (counts clamped at 1; only if p > 0);
 *   compensation C_ij = (s_j / max(s_i, eps))^q where that ratio is > 1, else 1, s = softmax(x) of the
 *   unmodified logits (only if q > 0).
 * Computed in log space and float64: log M_ij = p min(0, log(N_j / N_i)),
 * log C_ij = q max(0, lp_j - log max(s_i, eps)), with lp = log_softmax(x); z is shifted by its row
 * maximum before rounding to float32 (writeShifted). The softmax of the raw logits is this float64 JS
 * pre-pass, not a second tfjs call: it needs every log-probability on the JS side anyway to build z.
 *
 * softmax only, logits [N, C], class-index labels [N]. `classCounts` is the reference's `cum_samples`
 * as given (its SeesawLoss class first adds the batch's own labels; a scoring service takes the
 * training counts as they are). Reductions as mmpretrain's `weight_reduce_loss` with no sample weight:
 * `mean` over rows. The reference has no ignore_index (F.one_hot fails on -100): ignored rows are
 * left out, and `mean` divides by the rows not ignored.
 *
 * @see https://github.com/open-mmlab/mmpretrain/blob/main/mmpretrain/models/losses/seesaw_loss.py
 */
import { float32 } from '../arrays.js'
import { checkCounts, checkIndexSoftmax, checkPositive, checkScalar } from './checks.js'
import { planCrossEntropy } from './cross_entropy.js'
import type { Prepared } from './plan.js'
import { writeShifted } from './prepare.js'
import { asGiven, crossEntropyOptionsOf, type LossInput, type LossResult, type Namer, type SeesawOptions } from './types.js'

export function planSeesaw (input: LossInput, options: SeesawOptions, name: Namer = asGiven): Prepared<LossResult> {
  const { rows, classes } = checkIndexSoftmax(input, options, 'seesaw', 'seesaw', name)
  const counts = checkCounts(name('classCounts'), options.classCounts, classes)
  const { p, q, eps } = options
  checkScalar(name('p'), p, 0)
  checkScalar(name('q'), q, 0)
  checkPositive(name('eps'), eps)
  const logN = Float64Array.from(counts, (n) => Math.log(Math.max(n, 1)))
  const logEps = Math.log(eps)
  const labels = input.labels.data as Int32Array
  const { logits } = input
  const x = float32(rows * classes)
  const row = new Float64Array(classes)
  for (let i = 0; i < rows; i++) {
    const base = i * classes
    let max = -Infinity
    for (let c = 0; c < classes; c++) {
      const v = logits[base + c] as number
      row[c] = v
      if (v > max) max = v
    }
    const y = labels[i] as number
    if (y >= 0 && y < classes && y !== options.ignoreIndex) {
      let sum = 0
      for (let c = 0; c < classes; c++) sum += Math.exp((row[c] as number) - max)
      const lse = max + Math.log(sum)
      const self = Math.max((row[y] as number) - lse, logEps)
      const logNy = logN[y] as number
      for (let c = 0; c < classes; c++) {
        if (c === y) continue
        const v = row[c] as number
        const mitigation = p > 0 ? p * Math.min(0, (logN[c] as number) - logNy) : 0
        const compensation = q > 0 ? q * Math.max(0, v - lse - self) : 0
        row[c] = v + mitigation + compensation
      }
    }
    writeShifted(row, x, base)
  }
  return planCrossEntropy({ logits: x, shape: input.shape, labels: input.labels }, crossEntropyOptionsOf(options, undefined, undefined), name)
}
