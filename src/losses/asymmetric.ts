/**
 * Asymmetric loss (Ridnik et al. 2021, "Asymmetric Loss For Multi-Label Classification", ICCV),
 * exactly `AsymmetricLoss` of Alibaba-MIIL/ASL `src/loss_functions/losses.py`, per element:
 *   p = sigmoid(x), q = min(1 - p + clip, 1) (if clip > 0, else 1 - p),
 *   l = -(t log max(p, eps) + (1 - t) log max(q, eps)) (1 - p_t)^(gammaPos t + gammaNeg (1 - t)),
 *   p_t = p t + q (1 - t); no focusing factor when both gammas are 0.
 *
 * sigmoid only, logits [N, C] or [N], targets of the same shape (soft targets work as in the
 * formula) or class indices (one-hot encoded, as the focal loss); label smoothing is applied to the
 * targets first as for BCE. The reference returns the sum (`reduction: "sum"`, its own number);
 * `mean` divides by the elements of rows not ignored, `none` gives each element.
 *
 * Its eps clamp is part of its numbers and is matched: for x < log(eps / (1 - eps)) the positive term
 * is log(eps), not log p. The clamped logs are computed as max(-softplus(-x), log eps), exact where
 * the reference's float64 1 - sigmoid(x) rounds to 0 or 1 (kernels.ts); with eps = 0, where the
 * reference is -inf or NaN (0 * log 0), the unclamped log-sigmoid keeps every value finite.
 *
 * @see https://github.com/Alibaba-MIIL/ASL/blob/main/src/loss_functions/losses.py
 */
import { invalid } from '../errors.js'
import { checkHalfOpen, checkScalar } from './checks.js'
import { head, type Prepared } from './plan.js'
import { prepareBatch, sigmoidTargets } from './prepare.js'
import { reduce } from './reduce.js'
import { asGiven, type AsymmetricOptions, type LossInput, type LossResult, type Namer } from './types.js'

export function planAsymmetric (input: LossInput, options: AsymmetricOptions, name: Namer = asGiven): Prepared<LossResult> {
  if (options.activation !== 'sigmoid') invalid(`${name('activation')} must be "sigmoid": the asymmetric loss is a sigmoid loss`)
  const { layout, index, x } = prepareBatch(input, options, name)
  const { gammaPos, gammaNeg, clip, eps, reduction } = options
  checkScalar(name('gammaPos'), gammaPos, 0)
  checkScalar(name('gammaNeg'), gammaNeg, 0)
  checkHalfOpen(name('clip'), clip, 0, 1)
  checkHalfOpen(name('eps'), eps, 0, 1)
  const { rows, classes } = layout
  const t = sigmoidTargets(input, layout, index, options.labelSmoothing)
  const kept = index === undefined ? rows : index.kept
  return {
    call: { kind: 'sigmoid', rows, classes, x, t, heads: [{ kind: 'asymmetric', gammaPos, gammaNeg, clip, eps }] },
    finish: (outputs, i = 0) => reduce({ values: head(outputs, i), valuesShape: input.shape, normalizer: kept * classes, reduction, keep: index?.keep, rowWidth: classes })
  }
}
