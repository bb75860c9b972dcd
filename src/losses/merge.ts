/**
 * Combining kernel calls: heads of calls over the same inputs into one call (`/loss/compare`), and
 * calls of different requests along rows (the engine's dynamic batcher), with the split back.
 *
 * Calls are written out field by field, not as `{ ...call, heads }`: on Node 20's V8 an object
 * spread followed by new properties costs microseconds (see losses/types.ts).
 */
import { float32, int32 } from '../arrays.js'
import type { KernelCall, SigmoidCall, SigmoidHead, SingleCall, SoftmaxDenseCall, SoftmaxHead, SoftmaxIndexCall, SoftmaxLogHead, SoftmaxPolyHead } from './kernels.js'

/** One call computing the heads of both calls, which must share their inputs (`/loss/compare`). */
export function withHeadsOf (a: KernelCall, b: KernelCall): KernelCall {
  if (a.kind === 'multi' || b.kind === 'multi') throw new Error('cannot add heads to a multi call')
  const { rows, classes, x } = a
  if (a.kind === 'sigmoid' && b.kind === 'sigmoid') return { kind: 'sigmoid', rows, classes, x, t: a.t, heads: a.heads.concat(b.heads) }
  if (a.kind === 'softmax-index' && b.kind === 'softmax-index') return { kind: 'softmax-index', rows, classes, x, target: a.target, heads: a.heads.concat(b.heads) }
  if (a.kind === 'softmax-dense' && b.kind === 'softmax-dense') return { kind: 'softmax-dense', rows, classes, x, heads: a.heads.concat(b.heads) }
  throw new Error(`cannot combine a ${a.kind} call with a ${b.kind} call`)
}

function softmaxHeadSignature (h: SoftmaxHead): string {
  if (h.kind === 'stat') return `stat:${h.stat}`
  return h.kind === 'poly' ? `poly:${h.power}:${h.offset === undefined ? '' : 'o'}` : String(h.gamma)
}

function sigmoidHeadSignature (h: SigmoidHead): string {
  switch (h.kind) {
    case 'bce': return `bce:${h.weight === undefined ? '' : 'w'}:${h.posWeight === undefined ? '' : 'p'}`
    case 'focal': return `focal:${h.gamma}:${h.alpha === null ? 'none' : typeof h.alpha === 'number' ? h.alpha : 'vec'}:${h.weight === undefined ? '' : 'w'}`
    case 'poly': return `poly:${h.power}`
    case 'asymmetric': return `asl:${h.gammaPos}:${h.gammaNeg}:${h.clip}:${h.eps}`
  }
}

/** Calls with equal signatures (and equal per-class vectors) can run as one. */
export function signature (call: KernelCall): string {
  if (call.kind === 'multi') return `multi|${call.parts.map(signature).join('|')}`
  const heads = call.kind === 'sigmoid' ? call.heads.map(sigmoidHeadSignature) : call.heads.map(softmaxHeadSignature)
  return `${call.kind}|${call.classes}|${heads.join(',')}`
}

export function sameVector (a: Float32Array | Int32Array | undefined, b: Float32Array | Int32Array | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined || a.length !== b.length) return false
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
    .equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

function sameSigmoidHead (h: SigmoidHead, g: SigmoidHead): boolean {
  if (h.kind === 'bce' && g.kind === 'bce') return sameVector(h.weight, g.weight) && sameVector(h.posWeight, g.posWeight)
  if (h.kind === 'focal' && g.kind === 'focal') {
    const alpha = typeof h.alpha !== 'object' || h.alpha === null || typeof g.alpha !== 'object' || g.alpha === null
      ? h.alpha === g.alpha
      : sameVector(h.alpha, g.alpha)
    return alpha && sameVector(h.weight, g.weight)
  }
  // Every parameter of the other kinds is in the signature.
  return h.kind === g.kind
}

/** Whether two heads of calls over the same inputs compute the same output, so one call needs it once. */
export function sameHead (h: SoftmaxHead | SigmoidHead, g: SoftmaxHead | SigmoidHead, sigmoid: boolean): boolean {
  if (sigmoid) return sigmoidHeadSignature(h as SigmoidHead) === sigmoidHeadSignature(g as SigmoidHead) && sameSigmoidHead(h as SigmoidHead, g as SigmoidHead)
  const a = h as SoftmaxHead
  const b = g as SoftmaxHead
  if (softmaxHeadSignature(a) !== softmaxHeadSignature(b)) return false
  if (a.kind === 'stat' || b.kind === 'stat') return true
  if (!sameVector(a.coef, b.coef)) return false
  return a.kind !== 'poly' || sameVector(a.offset, (b as SoftmaxPolyHead).offset)
}

/** Whether two calls with the same signature share their per-class vectors too. */
export function compatible (a: KernelCall, b: KernelCall): boolean {
  if (a.kind === 'multi' || b.kind === 'multi') {
    if (a.kind !== 'multi' || b.kind !== 'multi' || a.parts.length !== b.parts.length) return false
    return a.parts.every((p, i) => { const q = b.parts[i]; return q !== undefined && compatible(p, q) })
  }
  if (a.kind !== 'sigmoid' || b.kind !== 'sigmoid') return true
  return a.heads.length === b.heads.length && a.heads.every((h, i) => { const g = b.heads[i]; return g !== undefined && sameSigmoidHead(h, g) })
}

/** Whether two calls have the same inputs, so that their heads can be computed by one call. */
export function sameInputs (a: KernelCall, b: KernelCall): boolean {
  if (a.kind === 'multi' || b.kind !== a.kind || a.rows !== b.rows || a.classes !== b.classes || !sameVector(a.x, b.x)) return false
  if (a.kind === 'softmax-index') return sameVector(a.target, (b as SoftmaxIndexCall).target)
  if (a.kind === 'sigmoid') return sameVector(a.t, (b as SigmoidCall).t)
  return true
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

function mergeSoftmaxHeads (same: ReadonlyArray<SoftmaxIndexCall | SoftmaxDenseCall>, heads: readonly SoftmaxHead[]): SoftmaxHead[] {
  // Equal signatures: every call has head i, of the same kind, with an offset if the first has one.
  return heads.map((h, i) => {
    if (h.kind === 'stat') return h
    const coef = concat(same.map((c) => (c.heads[i] as SoftmaxLogHead | SoftmaxPolyHead).coef), float32)
    if (h.kind !== 'poly') return { gamma: h.gamma, coef }
    const offset = h.offset === undefined
      ? undefined
      : concat(same.map((c) => (c.heads[i] as SoftmaxPolyHead).offset as Float32Array), float32)
    return { kind: 'poly', power: h.power, coef, offset }
  })
}

/** Concatenates compatible calls along rows. */
export function merge (calls: readonly KernelCall[]): KernelCall {
  const first = calls[0]
  if (first === undefined) throw new Error('merge needs at least one call')
  if (calls.length === 1) return first
  const rows = calls.reduce((n, c) => n + c.rows, 0)
  const { classes } = first
  if (first.kind === 'multi') {
    const multis = calls as ReadonlyArray<Extract<KernelCall, { kind: 'multi' }>>
    const parts = first.parts.map((_, k) => merge(multis.map((c) => c.parts[k] as SingleCall)) as SingleCall)
    return { kind: 'multi', rows, classes, parts }
  }
  const x = concat((calls as readonly SingleCall[]).map((c) => c.x), float32)
  switch (first.kind) {
    case 'softmax-index': {
      const same = calls as readonly SoftmaxIndexCall[]
      return { kind: 'softmax-index', rows, classes, x, target: concat(same.map((c) => c.target), int32), heads: mergeSoftmaxHeads(same, first.heads) }
    }
    case 'softmax-dense':
      return { kind: 'softmax-dense', rows, classes, x, heads: mergeSoftmaxHeads(calls as readonly SoftmaxDenseCall[], first.heads) }
    case 'sigmoid':
      return { kind: 'sigmoid', rows, classes, x, t: concat((calls as readonly SigmoidCall[]).map((c) => c.t), float32), heads: first.heads }
  }
}

/** The length of each head's output. */
function outputSizes (call: KernelCall): number[] {
  if (call.kind === 'multi') return call.parts.flatMap(outputSizes)
  const size = call.kind === 'sigmoid' ? call.rows * call.classes : call.rows
  return call.heads.map(() => size)
}

/** Splits the outputs of a merged call back into one list of head outputs per original call. */
export function split (calls: readonly KernelCall[], outputs: readonly Float32Array[]): Float32Array[][] {
  if (calls.length === 1) return [outputs.slice()]
  const offsets = outputs.map(() => 0)
  return calls.map((c) => outputSizes(c).map((size, h) => {
    const start = offsets[h] as number
    offsets[h] = start + size
    return (outputs[h] as Float32Array).subarray(start, start + size)
  }))
}
