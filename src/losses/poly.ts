/**
 * Poly-1 loss (Leng et al. 2022, "PolyLoss: A Polynomial Expansion Perspective of Classification
 * Loss Functions", ICLR), the paper's listings `poly1_cross_entropy` and `poly1_focal_loss`.
 *
 * base "ce": softmax, logits [N, C] or [N, C, T], labels as cross_entropy.ts: per row
 * CE_i + epsilon (1 - p_t) with p_t = sum_c t'_ic p_ic, t' the one-hot, smoothed or given target
 * (so label smoothing changes p_t too). Sigmoid, per element: BCE + epsilon (1 - p_t),
 * p_t = p t + (1 - p)(1 - t).
 *
 * base "focal": sigmoid, per element (the paper's listing): FL = BCE (1 - p_t)^gamma, times
 * alpha t + (1 - alpha)(1 - t) unless alpha is null, then + epsilon (1 - p_t)^(gamma + 1).
 * The paper lists no softmax focal form: softmax uses this service's softmax focal loss (focal.ts,
 * Keras' formula) as FL and adds epsilon (1 - p_t)^(gamma + 1) with p_t = sum_c t'_ic p_ic.
 *
 * The epsilon term is never weighted (not by weight, posWeight or alpha), as in the listings where it
 * is added to the already weighted base loss. Values, reductions and denominators are the base
 * loss's: softmax CE `mean` divides by sum w[y_i] over rows not ignored (by the row count for
 * probabilities), softmax focal by the rows not ignored, sigmoid by the elements of rows not ignored.
 * 1 - p_t is -expm1(lp) (never 1 - exp(-ce), LDAM-DRW#17); epsilon may be negative (>= -1).
 *
 * @see https://arxiv.org/abs/2204.12511 (Listings 1 and 2)
 */
import { invalid } from '../errors.js'
import { float32 } from '../arrays.js'
import { checkInput, checkScalar } from './checks.js'
import { planCrossEntropy } from './cross_entropy.js'
import { planFocal } from './focal.js'
import type { KernelCall, SoftmaxHead } from './kernels.js'
import { withHeadsOf } from './merge.js'
import { head, type Prepared } from './plan.js'
import { asRows } from './prepare.js'
import { asGiven, crossEntropyOptionsOf, focalOptionsOf, type LossInput, type LossResult, type Namer, type PolyOptions } from './types.js'

export function planPoly (input: LossInput, options: PolyOptions, name: Namer = asGiven): Prepared<LossResult> {
  const { base: kind, epsilon } = options
  if (kind !== 'ce' && kind !== 'focal') invalid(`${name('base')} = ${JSON.stringify(kind)} must be "ce" or "focal"`)
  const base = kind === 'ce'
    ? planCrossEntropy(input, crossEntropyOptionsOf(options, options.weight, options.posWeight), name)
    : planFocal(input, focalOptionsOf(options, options.gamma, options.alpha, options.weight), name)
  checkScalar(name('epsilon'), epsilon, -1)
  const power = kind === 'ce' ? 1 : options.gamma + 1
  const call = withHeadsOf(base.call, polyCall(input, base.call, power, options))
  return {
    call,
    finish: (outputs, i = 0) => {
      const values = head(outputs, i)
      const term = head(outputs, i + 1)
      const out = float32(values.length)
      for (let k = 0; k < out.length; k++) out[k] = (values[k] as number) + epsilon * (term[k] as number)
      return base.finish([out], 0)
    }
  }
}

/** A call of the base's kind whose only head is the Poly-1 term (1 - p_t)^power. */
function polyCall (input: LossInput, base: KernelCall, power: number, options: PolyOptions): KernelCall {
  const { rows, classes } = base
  switch (base.kind) {
    case 'sigmoid':
      return { kind: 'sigmoid', rows, classes, x: base.x, t: base.t, heads: [{ kind: 'poly', power }] }
    case 'softmax-index': {
      const coef = float32(rows)
      const labels = input.labels.data
      for (let i = 0; i < rows; i++) coef[i] = labels[i] === options.ignoreIndex ? 0 : 1
      return { kind: 'softmax-index', rows, classes, x: base.x, target: base.target, heads: [{ kind: 'poly', power, coef, offset: undefined }] }
    }
    case 'softmax-dense': {
      const heads: SoftmaxHead[] = [smoothedTargetHead(input, rows, classes, power, options)]
      return { kind: 'softmax-dense', rows, classes, x: base.x, heads }
    }
    case 'multi': return invalid('a multi call has no Poly-1 form')
  }
}

/** t' per element and 1 - sum_c t'_c per row (float64 of the float32 coefficients). */
function smoothedTargetHead (input: LossInput, rows: number, classes: number, power: number, options: PolyOptions): SoftmaxHead {
  const eps = options.labelSmoothing
  const uniform = eps / classes
  const coef = float32(rows * classes)
  const offset = float32(rows)
  const { labels } = input
  const t = labels.kind === 'dense' ? asRows(labels.data, checkInput(input, options.activation)) : undefined
  for (let i = 0, k = 0; i < rows; i++) {
    const y = labels.kind === 'index' ? labels.data[i] as number : -1
    const ignored = labels.kind === 'index' && y === options.ignoreIndex
    let sum = 0
    for (let c = 0; c < classes; c++, k++) {
      if (ignored) continue
      const target = t === undefined ? (c === y ? 1 : 0) : t[k] as number
      coef[k] = target * (1 - eps) + uniform
      sum += coef[k] as number
    }
    offset[i] = ignored ? 0 : 1 - sum
  }
  return { kind: 'poly', power, coef, offset }
}
