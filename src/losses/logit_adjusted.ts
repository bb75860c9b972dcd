/**
 * Logit-adjusted cross-entropy (Menon et al. 2021, "Long-tail learning via logit adjustment", ICLR,
 * eq. 10): CE(x + tau log pi, y) with pi_c = n_c / sum n the training priors.
 *
 * softmax only, logits [N, C], labels class indices [N] or probabilities [N, C]; then exactly
 * cross_entropy.ts on the adjusted logits, with its `weight`, `ignoreIndex` and `labelSmoothing`:
 * `mean` divides by sum w[y_i] over rows not ignored (by N for probabilities). The adjusted logits are
 * computed in float64 and shifted by their row maximum before rounding to float32 (writeShifted).
 * A class with n_c = 0 has log pi_c = -inf when tau != 0: refused, as no finite answer exists.
 *
 * @see https://arxiv.org/abs/2007.07314
 */
import { invalid } from '../errors.js'
import { float32 } from '../arrays.js'
import { checkCounts, checkInput, checkLayout, checkScalar } from './checks.js'
import { planCrossEntropy } from './cross_entropy.js'
import type { Prepared } from './plan.js'
import { writeShifted } from './prepare.js'
import { asGiven, crossEntropyOptionsOf, type LogitAdjustedOptions, type LossInput, type LossResult, type Namer } from './types.js'

export function planLogitAdjusted (input: LossInput, options: LogitAdjustedOptions, name: Namer = asGiven): Prepared<LossResult> {
  if (options.activation !== 'softmax') invalid(`${name('activation')} must be "softmax": logit adjustment is a softmax loss`)
  const layout = checkInput(input, options.activation)
  checkLayout(layout, input, 'logit_adjusted', false)
  const { rows, classes } = layout
  const counts = checkCounts(name('classCounts'), options.classCounts, classes)
  const { tau } = options
  checkScalar(name('tau'), tau, -Infinity)
  let total = 0
  for (let c = 0; c < classes; c++) total += counts[c] as number
  const shift = new Float64Array(classes)
  if (tau !== 0) {
    for (let c = 0; c < classes; c++) {
      const n = counts[c] as number
      if (n === 0) invalid(`${name('classCounts')}[${c}] = 0 must be > 0 when ${name('tau')} != 0 (log of a zero prior is -∞)`)
      shift[c] = tau * Math.log(n / total)
    }
  }
  const { logits } = input
  const x = float32(rows * classes)
  const row = new Float64Array(classes)
  for (let i = 0; i < rows; i++) {
    const base = i * classes
    for (let c = 0; c < classes; c++) row[c] = (logits[base + c] as number) + (shift[c] as number)
    writeShifted(row, x, base)
  }
  return planCrossEntropy({ logits: x, shape: input.shape, labels: input.labels }, crossEntropyOptionsOf(options, options.weight, undefined), name)
}
