/**
 * The tfjs computations. Every loss is one of three kernels over a [rows, classes] matrix; the loss
 * files only prepare coefficient arrays and reduce what comes back. A call lists one or more heads
 * (loss terms sharing the same log-probabilities), so `/loss/compare` pays for one softmax. A `multi`
 * call runs several such calls over the same batch (losses on different logits, or of both kinds).
 *
 * Per-row and per-element values are independent of the other rows, so calls with the same
 * signature can be concatenated along rows and split afterwards with identical results: that is what
 * the engine's dynamic batcher does (merge.ts).
 */
import * as tf from '@tensorflow/tfjs-core'
import { float32, int32 } from '../arrays.js'

/** gamma null: cross-entropy term -lp; a number: focal term (1 - p)^gamma * -lp. */
export interface SoftmaxLogHead {
  readonly kind?: 'log'
  readonly gamma: number | null
  /** softmax-index: one factor per row; softmax-dense: one per element. */
  readonly coef: Float32Array
}

/**
 * The Poly-1 term (1 - p_t)^power with 1 - p_t = coef_i (-expm1(lp_iy)) (softmax-index) or
 * sum_c coef_ic (-expm1(lp_ic)) + offset_i (softmax-dense: coef = t', offset = 1 - sum_c t'_ic), so
 * that 1 - p_t never comes from a cancelling 1 - sum_c t'_c p_c. Not negated: the term is >= 0.
 */
export interface SoftmaxPolyHead {
  readonly kind: 'poly'
  readonly power: number
  readonly coef: Float32Array
  /** softmax-dense only, one value per row. */
  readonly offset: Float32Array | undefined
}

/**
 * A per-row statistic of the softmax the loss heads already compute, for the evaluation metrics
 * (rowstats.ts): Σ_c exp(x_c - max) or Σ_c exp(x_c - max)². No coefficients.
 */
export interface SoftmaxStatHead {
  readonly kind: 'stat'
  readonly stat: 'sum' | 'sumsq'
}

export type SoftmaxHead = SoftmaxLogHead | SoftmaxPolyHead | SoftmaxStatHead

/** Output per head and row: coef_i * term(lp[i, target_i]). */
export interface SoftmaxIndexCall {
  readonly kind: 'softmax-index'
  readonly rows: number
  readonly classes: number
  readonly x: Float32Array
  /** A valid class per row; rows to be ignored carry any valid class and a zero coef. */
  readonly target: Int32Array
  readonly heads: readonly SoftmaxHead[]
}

/** Output per head and row: sum over c of coef_ic * term(lp_ic). */
export interface SoftmaxDenseCall {
  readonly kind: 'softmax-dense'
  readonly rows: number
  readonly classes: number
  readonly x: Float32Array
  readonly heads: readonly SoftmaxHead[]
}

export type SigmoidHead =
  | { readonly kind: 'bce', readonly weight: Float32Array | undefined, readonly posWeight: Float32Array | undefined }
  | {
    readonly kind: 'focal'
    readonly gamma: number
    readonly alpha: number | Float32Array | null
    /** Per-class multiplier of the whole term (class-balanced weights, Cui et al.). */
    readonly weight: Float32Array | undefined
  }
  /** (1 - p_t)^power, the Poly-1 term of the sigmoid losses. */
  | { readonly kind: 'poly', readonly power: number }
  /** Ridnik et al.'s asymmetric loss, element by element (asymmetric.ts). */
  | { readonly kind: 'asymmetric', readonly gammaPos: number, readonly gammaNeg: number, readonly clip: number, readonly eps: number }

/** Output per head and element: the element's loss. */
export interface SigmoidCall {
  readonly kind: 'sigmoid'
  readonly rows: number
  readonly classes: number
  readonly x: Float32Array
  readonly t: Float32Array
  readonly heads: readonly SigmoidHead[]
}

/**
 * Several calls over the same batch (same rows and classes) run one after the other; its outputs are
 * the parts' outputs in order. It lets one plan hold losses that cannot share a log-softmax.
 */
export interface MultiCall {
  readonly kind: 'multi'
  readonly rows: number
  readonly classes: number
  readonly parts: readonly SingleCall[]
}

export type SingleCall = SoftmaxIndexCall | SoftmaxDenseCall | SigmoidCall
export type KernelCall = SingleCall | MultiCall

/** Runs one call and returns one Float32Array per head. */
export function execute (call: KernelCall): Float32Array[] {
  if (call.kind === 'multi') return call.parts.flatMap((part) => execute(part))
  const outputs = tf.tidy(() => {
    switch (call.kind) {
      case 'softmax-index': return softmaxIndex(call)
      case 'softmax-dense': return softmaxDense(call)
      case 'sigmoid': return sigmoid(call)
    }
  })
  try {
    return outputs.map((t) => t.dataSync() as Float32Array)
  } finally {
    tf.dispose(outputs)
  }
}

interface LogSoftmaxParts {
  readonly exp: tf.Tensor
  readonly sum: tf.Tensor
  readonly shifted: tf.Tensor
  readonly lse: tf.Tensor
}

/** The shifted logits x - max and log-sum-exp of them, as log_softmax computes them, with the parts the stat heads read. */
function shiftedLogSumExp (call: SingleCall): LogSoftmaxParts {
  const x = tf.tensor2d(call.x, [call.rows, call.classes])
  const shifted = tf.sub(x, tf.max(x, 1, true))
  const exp = tf.exp(shifted)
  const sum = tf.sum(exp, 1)
  return { exp, sum, shifted, lse: tf.log(sum) }
}

function stat (parts: LogSoftmaxParts, head: SoftmaxStatHead): tf.Tensor {
  switch (head.stat) {
    case 'sum': return parts.sum
    case 'sumsq': return tf.sum(tf.square(parts.exp), 1)
  }
}

/**
 * (1 - p)^gamma * lp, with 1 - p = -expm1(lp): exact where p is close to 1, never above 1
 * (computing it from exp(-ce) is what makes fractional gamma NaN, LDAM-DRW#17).
 */
function focalTerm (lp: tf.Tensor, gamma: number): tf.Tensor {
  if (gamma === 0) return lp
  // gamma = 2, the default: (1 - p)^2 = expm1(lp)^2, one op instead of neg, pow and a scalar.
  if (gamma === 2) return tf.mul(tf.square(tf.expm1(lp)), lp)
  return tf.mul(modulate(tf.neg(tf.expm1(lp)), gamma), lp)
}

/** base^gamma for gamma > 0, with the common exponents as single ops. */
function modulate (base: tf.Tensor, gamma: number): tf.Tensor {
  if (gamma === 1) return base
  if (gamma === 2) return tf.square(base)
  return tf.pow(base, tf.scalar(gamma))
}

/**
 * base^power for a base that is >= 0 up to rounding: a fractional power of a rounding-negative base
 * would be NaN, so it is clamped at 0 first (an integer power keeps the reference's sign).
 */
function polyPower (base: tf.Tensor, power: number): tf.Tensor {
  return modulate(Number.isInteger(power) ? base : tf.relu(base), power)
}

/** -coef, so that the loss's sign costs a JS loop over rows instead of one more tfjs op. */
function negated (coef: Float32Array): Float32Array {
  const out = float32(coef.length)
  for (let i = 0; i < coef.length; i++) out[i] = -(coef[i] as number)
  return out
}

function softmaxIndex (call: SoftmaxIndexCall): tf.Tensor[] {
  const parts = shiftedLogSumExp(call)
  const { shifted, lse } = parts
  const flat = int32(call.rows)
  for (let i = 0; i < call.rows; i++) flat[i] = i * call.classes + (call.target[i] as number)
  const lp = tf.sub(tf.gather(tf.reshape(shifted, [-1]), tf.tensor1d(flat, 'int32')), lse)
  let oneMinusP: tf.Tensor | undefined
  return call.heads.map((head) => {
    if (head.kind === 'stat') return stat(parts, head)
    if (head.kind === 'poly') {
      oneMinusP ??= tf.neg(tf.expm1(lp))
      return tf.mul(modulate(oneMinusP, head.power), tf.tensor1d(head.coef))
    }
    const term = head.gamma === null ? lp : focalTerm(lp, head.gamma)
    return tf.mul(term, tf.tensor1d(negated(head.coef)))
  })
}

function softmaxDense (call: SoftmaxDenseCall): tf.Tensor[] {
  const parts = shiftedLogSumExp(call)
  const { shifted, lse } = parts
  const shape: [number, number] = [call.rows, call.classes]
  const lp = tf.sub(shifted, tf.reshape(lse, [call.rows, 1]))
  let oneMinusP: tf.Tensor | undefined
  return call.heads.map((head) => {
    if (head.kind === 'stat') return stat(parts, head)
    if (head.kind === 'poly') {
      oneMinusP ??= tf.neg(tf.expm1(lp))
      const sum = tf.sum(tf.mul(oneMinusP, tf.tensor2d(head.coef, shape)), 1)
      const base = head.offset === undefined ? sum : tf.add(sum, tf.tensor1d(head.offset))
      return polyPower(base, head.power)
    }
    const term = head.gamma === null ? lp : focalTerm(lp, head.gamma)
    return tf.neg(tf.sum(tf.mul(term, tf.tensor2d(head.coef, shape)), 1))
  })
}

/**
 * Binary cross-entropy as t * softplus(-x) + (1 - t) * softplus(x): both terms are non-negative,
 * so nothing cancels, unlike PyTorch's (1 - t) * x + log1p(exp(-|x|)) + max(-x, 0) form, and
 * tfjs's softplus is accurate in both tails (its wasm log1p is not).
 */
function sigmoid (call: SigmoidCall): tf.Tensor[] {
  const shape: [number, number] = [call.rows, call.classes]
  const x = tf.tensor2d(call.x, shape)
  const t = tf.tensor2d(call.t, shape)
  const oneMinusT = tf.sub(tf.scalar(1), t)
  const negLogP = tf.softplus(tf.neg(x))
  const negLogQ = tf.softplus(x)
  const negQ = tf.mul(oneMinusT, negLogQ)
  let plain: tf.Tensor | undefined
  const plainBce = (): tf.Tensor => (plain ??= tf.add(tf.mul(t, negLogP), negQ))
  // 1 - p_t = p(1 - t) + (1 - p)t, with 1 - p = sigmoid(-x): accurate in both tails.
  let pt: tf.Tensor | undefined
  const oneMinusPt = (): tf.Tensor => (pt ??= tf.add(tf.mul(tf.sigmoid(x), oneMinusT), tf.mul(tf.sigmoid(tf.neg(x)), t)))
  const row = (v: Float32Array): tf.Tensor => tf.tensor2d(v, [1, call.classes])

  return call.heads.map((head) => {
    switch (head.kind) {
      case 'bce': {
        const loss = head.posWeight === undefined
          ? plainBce()
          : tf.add(tf.mul(tf.mul(t, negLogP), row(head.posWeight)), negQ)
        return head.weight === undefined ? loss : tf.mul(loss, row(head.weight))
      }
      case 'poly': return modulate(oneMinusPt(), head.power)
      case 'asymmetric': return asymmetric(x, t, oneMinusT, negLogP, negLogQ, head)
      case 'focal': break
    }
    let loss = plainBce()
    if (head.gamma !== 0) loss = tf.mul(loss, modulate(oneMinusPt(), head.gamma))
    if (head.alpha !== null) {
      const alpha = typeof head.alpha === 'number' ? tf.scalar(head.alpha) : row(head.alpha)
      loss = tf.mul(loss, tf.add(tf.mul(t, alpha), tf.mul(oneMinusT, tf.sub(tf.scalar(1), alpha))))
    }
    return head.weight === undefined ? loss : tf.mul(loss, row(head.weight))
  })
}

/**
 * ASL's element loss -(t log max(p, eps) + (1 - t) log max(q, eps)) (1 - p_t)^(g+ t + g- (1 - t)),
 * with p = sigmoid(x) and the shifted negative probability q = min(1 - p + clip, 1). The clamped logs
 * are max(log p, log eps) (log is monotone) with log p = -softplus(-x), exact in the tails where the
 * reference's 1 - sigmoid(x) rounds; 1 - p_t = t (1 - p) + (1 - t) max(p - clip, 0) exactly.
 */
function asymmetric (
  x: tf.Tensor, t: tf.Tensor, oneMinusT: tf.Tensor, negLogP: tf.Tensor, negLogQ: tf.Tensor,
  head: { readonly gammaPos: number, readonly gammaNeg: number, readonly clip: number, readonly eps: number }
): tf.Tensor {
  const logEps = tf.scalar(Math.log(head.eps))
  const logPos = tf.maximum(tf.neg(negLogP), logEps)
  const logNeg = head.clip > 0
    ? tf.log(tf.maximum(tf.minimum(tf.add(tf.sigmoid(tf.neg(x)), tf.scalar(head.clip)), tf.scalar(1)), tf.scalar(head.eps)))
    : tf.maximum(tf.neg(negLogQ), logEps)
  const loss = tf.neg(tf.add(tf.mul(t, logPos), tf.mul(oneMinusT, logNeg)))
  if (head.gammaPos === 0 && head.gammaNeg === 0) return loss
  const p = tf.sigmoid(x)
  const negBase = head.clip > 0 ? tf.relu(tf.sub(p, tf.scalar(head.clip))) : p
  const base = tf.add(tf.mul(t, tf.sigmoid(tf.neg(x))), tf.mul(oneMinusT, negBase))
  const gamma = head.gammaPos === head.gammaNeg
    ? tf.scalar(head.gammaPos)
    : tf.add(tf.scalar(head.gammaNeg), tf.mul(t, tf.scalar(head.gammaPos - head.gammaNeg)))
  return tf.mul(loss, tf.pow(base, gamma))
}

export { compatible, merge, signature, split, withHeadsOf } from './merge.js'
