/**
 * Cross-entropy on logits.
 *
 * softmax, logits [N, C] or [N, C, T], labels class indices [N] / [N, T] or probabilities of the
 * logits' shape: `torch.nn.functional.cross_entropy` (PyTorch 1.13) with `weight`, `ignore_index`
 * and `label_smoothing`. Per row l_i = -sum_c A_ic lp_ic with A_ic = (1 - eps) w_y [c = y] + (eps/C) w_c
 * for indices (so the smoothing term uses every class weight while `mean` divides by sum w[y_i] only:
 * PyTorch's own behaviour, pytorch#104776) and A_ic = w_c (t_ic (1 - eps) + eps/C) for probabilities,
 * whose `mean` divides by the row count.
 *
 * sigmoid, logits [N, C] or [N], targets of the same shape (or class indices, one-hot encoded):
 * `F.binary_cross_entropy_with_logits` with `weight` (per class, broadcast over rows) and
 * `pos_weight`; `mean` over elements.
 *
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.functional.cross_entropy.html
 * @see https://pytorch.org/docs/1.13/generated/torch.nn.functional.binary_cross_entropy_with_logits.html
 */
import { invalid } from '../errors.js'
import { checkVector } from './checks.js'
import { head, type Prepared } from './plan.js'
import { prepareBatch, sigmoidTargets, softmaxCoefficients } from './prepare.js'
import { reduce } from './reduce.js'
import { asGiven, type CrossEntropyOptions, type LossInput, type LossResult, type Namer } from './types.js'
import { float32 } from '../arrays.js'

export function planCrossEntropy (input: LossInput, options: CrossEntropyOptions, name: Namer = asGiven): Prepared<LossResult> {
  const { layout, index, x } = prepareBatch(input, options, name)
  const { rows, classes, valuesShape } = layout
  const { shape } = input
  const { weight, posWeight, labelSmoothing: eps, reduction } = options
  if (weight !== undefined) checkVector(name('weight'), weight, classes, 0)
  if (posWeight !== undefined) {
    if (options.activation !== 'sigmoid') invalid(`${name('posWeight')} applies to activation "sigmoid" only`)
    checkVector(name('posWeight'), posWeight, classes, 0)
  }
  const w = (c: number): number => weight === undefined ? 1 : weight[c] as number

  if (options.activation === 'sigmoid') {
    const t = sigmoidTargets(input, layout, index, eps)
    const kept = index === undefined ? rows : index.kept
    return {
      call: { kind: 'sigmoid', rows, classes, x, t, heads: [{ kind: 'bce', weight, posWeight }] },
      finish: (outputs, i = 0) => reduce({ values: head(outputs, i), valuesShape: shape, normalizer: kept * classes, reduction, keep: index?.keep, rowWidth: classes })
    }
  }

  if (index !== undefined) {
    let normalizer = 0
    for (let i = 0; i < rows; i++) if (index.keep === undefined || index.keep[i] === 1) normalizer += w(index.target[i] as number)
    const finish = (outputs: readonly Float32Array[], i = 0): LossResult =>
      reduce({ values: head(outputs, i), valuesShape, normalizer, reduction, keep: index.keep })
    if (eps === 0) {
      const coef = float32(rows)
      for (let i = 0; i < rows; i++) coef[i] = index.keep === undefined || index.keep[i] === 1 ? w(index.target[i] as number) : 0
      return { call: { kind: 'softmax-index', rows, classes, x, target: index.target, heads: [{ gamma: null, coef }] }, finish }
    }
    const coef = softmaxCoefficients(input, layout, index, eps, w, w)
    return { call: { kind: 'softmax-dense', rows, classes, x, heads: [{ gamma: null, coef }] }, finish }
  }

  const coef = softmaxCoefficients(input, layout, undefined, eps, w, w)
  return {
    call: { kind: 'softmax-dense', rows, classes, x, heads: [{ gamma: null, coef }] },
    finish: (outputs, i = 0) => reduce({ values: head(outputs, i), valuesShape, normalizer: rows, reduction })
  }
}
