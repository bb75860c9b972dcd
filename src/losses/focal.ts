/**
 * Focal loss on logits (Lin et al. 2017, "Focal Loss for Dense Object Detection").
 *
 * sigmoid, logits [N, C] or [N], targets of the same shape (class indices are one-hot encoded):
 * `torchvision.ops.sigmoid_focal_loss` (0.14): ce * (1 - p_t)^gamma, times alpha t + (1 - alpha)(1 - t)
 * unless alpha is null (torchvision's alpha = -1); `mean` over elements. A per-class alpha vector
 * replaces the scalar column by column.
 *
 * softmax, logits [N, C] or [N, C, T], class indices or probabilities: Keras
 * `CategoricalFocalCrossentropy(from_logits=True)` without its probability clipping:
 * l_i = sum_c alpha_c t'_ic (1 - p_ic)^gamma (-lp_ic), t' smoothed to t(1 - eps) + eps/C; `mean`
 * divides by the number of rows that are not ignored. With gamma = 0 and alpha = null both modes equal
 * the cross-entropy of the same activation.
 *
 * @see https://pytorch.org/vision/0.14/generated/torchvision.ops.sigmoid_focal_loss.html
 * @see https://keras.io/api/losses/probabilistic_losses/#categoricalfocalcrossentropy-class
 */
import { invalid } from '../errors.js'
import { checkScalar, checkVector } from './checks.js'
import { head, type Prepared } from './plan.js'
import { prepareBatch, sigmoidTargets, softmaxCoefficients } from './prepare.js'
import { reduce } from './reduce.js'
import { asGiven, type FocalOptions, type LossInput, type LossResult, type Namer } from './types.js'
import { float32 } from '../arrays.js'

export function planFocal (input: LossInput, options: FocalOptions, name: Namer = asGiven): Prepared<LossResult> {
  const { layout, index, x } = prepareBatch(input, options, name)
  checkScalar(name('gamma'), options.gamma, 0)
  const { rows, classes, valuesShape } = layout
  const { shape } = input
  const { alpha, gamma, labelSmoothing: eps, reduction } = options
  if (typeof alpha === 'number') checkScalar(name('alpha'), alpha, 0, 1)
  else if (alpha !== null) checkVector(name('alpha'), alpha, classes, 0, options.activation === 'sigmoid' ? 1 : Infinity)
  if (options.weight !== undefined) {
    if (options.activation !== 'sigmoid') invalid(`a focal ${name('weight')} applies to activation "sigmoid" only; use ${name('alpha')} for softmax`)
    checkVector(name('weight'), options.weight, classes, 0)
  }
  const kept = index === undefined ? rows : index.kept

  if (options.activation === 'sigmoid') {
    const t = sigmoidTargets(input, layout, index, eps)
    return {
      call: { kind: 'sigmoid', rows, classes, x, t, heads: [{ kind: 'focal', gamma, alpha, weight: options.weight }] },
      finish: (outputs, i = 0) => reduce({ values: head(outputs, i), valuesShape: shape, normalizer: kept * classes, reduction, keep: index?.keep, rowWidth: classes })
    }
  }

  const a = (c: number): number => alpha === null ? 1 : typeof alpha === 'number' ? alpha : alpha[c] as number
  const finish = (outputs: readonly Float32Array[], i = 0): LossResult =>
    reduce({ values: head(outputs, i), valuesShape, normalizer: kept, reduction, keep: index?.keep })
  if (index !== undefined && eps === 0) {
    const coef = float32(rows)
    for (let i = 0; i < rows; i++) coef[i] = index.keep === undefined || index.keep[i] === 1 ? a(index.target[i] as number) : 0
    return { call: { kind: 'softmax-index', rows, classes, x, target: index.target, heads: [{ gamma, coef }] }, finish }
  }
  const coef = softmaxCoefficients(input, layout, index, eps, a, a)
  return { call: { kind: 'softmax-dense', rows, classes, x, heads: [{ gamma, coef }] }, finish }
}
