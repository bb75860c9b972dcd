/**
 * The tfjs computations. Every loss is one of three kernels over a [rows, classes] matrix; the loss
 * files only prepare coefficient arrays and reduce what comes back. A call lists one or more heads
 * (loss terms sharing the same log-probabilities), so `/loss/compare` pays for one softmax.
 *
 * Per-row and per-element values are independent of the other rows, so calls with the same
 * signature can be concatenated along rows and split afterwards with identical results: that is what
 * the engine's dynamic batcher does.
 */
import * as tf from '@tensorflow/tfjs-core'
import { float32, int32 } from '../arrays.js'

/** gamma null: cross-entropy term -lp; a number: focal term (1 - p)^gamma * -lp. */
export interface SoftmaxHead {
  readonly gamma: number | null
  /** softmax-index: one factor per row; softmax-dense: one per element. */
  readonly coef: Float32Array
}

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

/** Output per head and element: the element's loss. */
export interface SigmoidCall {
  readonly kind: 'sigmoid'
  readonly rows: number
  readonly classes: number
  readonly x: Float32Array
  readonly t: Float32Array
  readonly heads: readonly SigmoidHead[]
}

export type KernelCall = SoftmaxIndexCall | SoftmaxDenseCall | SigmoidCall

/** Runs one call and returns one Float32Array per head. */
export function execute (call: KernelCall): Float32Array[] {
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

/** The shifted logits x - max and log-sum-exp of them, as log_softmax computes them. */
function shiftedLogSumExp (call: KernelCall): { shifted: tf.Tensor, lse: tf.Tensor } {
  const x = tf.tensor2d(call.x, [call.rows, call.classes])
  const shifted = tf.sub(x, tf.max(x, 1, true))
  return { shifted, lse: tf.log(tf.sum(tf.exp(shifted), 1)) }
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

/** -coef, so that the loss's sign costs a JS loop over rows instead of one more tfjs op. */
function negated (coef: Float32Array): Float32Array {
  const out = float32(coef.length)
  for (let i = 0; i < coef.length; i++) out[i] = -(coef[i] ?? 0)
  return out
}

function softmaxIndex (call: SoftmaxIndexCall): tf.Tensor[] {
  const { shifted, lse } = shiftedLogSumExp(call)
  const flat = int32(call.rows)
  for (let i = 0; i < call.rows; i++) flat[i] = i * call.classes + (call.target[i] ?? 0)
  const lp = tf.sub(tf.gather(tf.reshape(shifted, [-1]), tf.tensor1d(flat, 'int32')), lse)
  return call.heads.map((head) => {
    const term = head.gamma === null ? lp : focalTerm(lp, head.gamma)
    return tf.mul(term, tf.tensor1d(negated(head.coef)))
  })
}

function softmaxDense (call: SoftmaxDenseCall): tf.Tensor[] {
  const { shifted, lse } = shiftedLogSumExp(call)
  const lp = tf.sub(shifted, tf.reshape(lse, [call.rows, 1]))
  return call.heads.map((head) => {
    const term = head.gamma === null ? lp : focalTerm(lp, head.gamma)
    return tf.neg(tf.sum(tf.mul(term, tf.tensor2d(head.coef, [call.rows, call.classes])), 1))
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
  const row = (v: Float32Array): tf.Tensor => tf.tensor2d(v, [1, call.classes])

  return call.heads.map((head) => {
    if (head.kind === 'bce') {
      const loss = head.posWeight === undefined
        ? plainBce()
        : tf.add(tf.mul(tf.mul(t, negLogP), row(head.posWeight)), negQ)
      return head.weight === undefined ? loss : tf.mul(loss, row(head.weight))
    }
    let loss = plainBce()
    if (head.gamma !== 0) {
      // 1 - p_t = p(1 - t) + (1 - p)t, with 1 - p = sigmoid(-x): accurate in both tails.
      const oneMinusPt = tf.add(tf.mul(tf.sigmoid(x), oneMinusT), tf.mul(tf.sigmoid(tf.neg(x)), t))
      loss = tf.mul(loss, modulate(oneMinusPt, head.gamma))
    }
    if (head.alpha !== null) {
      const alpha = typeof head.alpha === 'number' ? tf.scalar(head.alpha) : row(head.alpha)
      loss = tf.mul(loss, tf.add(tf.mul(t, alpha), tf.mul(oneMinusT, tf.sub(tf.scalar(1), alpha))))
    }
    return head.weight === undefined ? loss : tf.mul(loss, row(head.weight))
  })
}

/*
 * Calls are written out field by field, not as `{ ...call, heads }`: on Node 20's V8 an object
 * spread followed by new properties costs microseconds (see losses/types.ts).
 */

/** One call computing the heads of both calls, which must share their inputs (`/loss/compare`). */
export function withHeadsOf (a: KernelCall, b: KernelCall): KernelCall {
  const { rows, classes, x } = a
  if (a.kind === 'sigmoid' && b.kind === 'sigmoid') return { kind: 'sigmoid', rows, classes, x, t: a.t, heads: a.heads.concat(b.heads) }
  if (a.kind === 'softmax-index' && b.kind === 'softmax-index') return { kind: 'softmax-index', rows, classes, x, target: a.target, heads: a.heads.concat(b.heads) }
  if (a.kind === 'softmax-dense' && b.kind === 'softmax-dense') return { kind: 'softmax-dense', rows, classes, x, heads: a.heads.concat(b.heads) }
  throw new Error(`cannot combine a ${a.kind} call with a ${b.kind} call`)
}

/** Calls with equal signatures (and equal per-class vectors) can run as one. */
export function signature (call: KernelCall): string {
  const heads = call.kind === 'sigmoid'
    ? call.heads.map((h) => h.kind === 'bce'
      ? `bce:${h.weight === undefined ? '' : 'w'}:${h.posWeight === undefined ? '' : 'p'}`
      : `focal:${h.gamma}:${h.alpha === null ? 'none' : typeof h.alpha === 'number' ? h.alpha : 'vec'}:${h.weight === undefined ? '' : 'w'}`)
    : call.heads.map((h) => String(h.gamma))
  return `${call.kind}|${call.classes}|${heads.join(',')}`
}

function sameVector (a: Float32Array | undefined, b: Float32Array | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined || a.length !== b.length) return false
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
    .equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

/** Whether two calls with the same signature share their per-class vectors too. */
export function compatible (a: KernelCall, b: KernelCall): boolean {
  if (a.kind !== 'sigmoid' || b.kind !== 'sigmoid') return true
  return a.heads.every((h, i) => {
    const g = b.heads[i]
    if (g === undefined) return false
    if (h.kind === 'bce' && g.kind === 'bce') {
      return sameVector(h.weight, g.weight) && sameVector(h.posWeight, g.posWeight)
    }
    if (h.kind === 'focal' && g.kind === 'focal') {
      const alpha = typeof h.alpha !== 'object' || h.alpha === null || typeof g.alpha !== 'object' || g.alpha === null
        ? h.alpha === g.alpha
        : sameVector(h.alpha, g.alpha)
      return alpha && sameVector(h.weight, g.weight)
    }
    return false
  })
}

function concat<T extends Float32Array | Int32Array> (parts: readonly T[], make: (n: number) => T): T {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0]
  let length = 0
  for (const p of parts) length += p.length
  const out = make(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

/** Concatenates compatible calls along rows. */
export function merge (calls: readonly KernelCall[]): KernelCall {
  const first = calls[0]
  if (first === undefined) throw new Error('merge needs at least one call')
  if (calls.length === 1) return first
  const rows = calls.reduce((n, c) => n + c.rows, 0)
  const { classes } = first
  const x = concat(calls.map((c) => c.x), float32)
  const softmaxHeads = (same: ReadonlyArray<SoftmaxIndexCall | SoftmaxDenseCall>, heads: readonly SoftmaxHead[]): SoftmaxHead[] =>
    heads.map((h, i) => ({ gamma: h.gamma, coef: concat(same.map((c) => c.heads[i]?.coef ?? float32(0)), float32) }))
  switch (first.kind) {
    case 'softmax-index': {
      const same = calls as readonly SoftmaxIndexCall[]
      return { kind: 'softmax-index', rows, classes, x, target: concat(same.map((c) => c.target), int32), heads: softmaxHeads(same, first.heads) }
    }
    case 'softmax-dense':
      return { kind: 'softmax-dense', rows, classes, x, heads: softmaxHeads(calls as readonly SoftmaxDenseCall[], first.heads) }
    case 'sigmoid':
      return { kind: 'sigmoid', rows, classes, x, t: concat((calls as readonly SigmoidCall[]).map((c) => c.t), float32), heads: first.heads }
  }
}

/** Splits the outputs of a merged call back into one list of head outputs per original call. */
export function split (calls: readonly KernelCall[], outputs: readonly Float32Array[]): Float32Array[][] {
  if (calls.length === 1) return [outputs.slice()]
  let offset = 0
  return calls.map((c) => {
    const size = c.kind === 'sigmoid' ? c.rows * c.classes : c.rows
    const part = outputs.map((o) => o.subarray(offset, offset + size))
    offset += size
    return part
  })
}
