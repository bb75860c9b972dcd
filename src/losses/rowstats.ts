/**
 * The per-row softmax statistics the evaluation metrics need (Σ exp(x - max) and Σ exp(x - max)²,
 * the max being a comparison the metrics' own pass makes anyway), as two more heads of the call that already computes the loss's log-softmax.
 * Measured on 1024x400 (wasm backend): +0.4 ms in the kernel against 12 ms for the same exps in a
 * JS loop over the logits, which was as long as the kernel itself.
 */
import { checkInput } from './checks.js'
import type { KernelCall, SingleCall, SoftmaxStatHead } from './kernels.js'
import { sameVector, withHeadsOf } from './merge.js'
import { head, type Prepared } from './plan.js'
import { asRows } from './prepare.js'
import type { LossInput } from './types.js'

/** Per row (frame, for temporal input) in the kernel's row order. */
export interface RowStats {
  readonly sum: Float32Array
  readonly sumSq: Float32Array
}

const STATS: readonly SoftmaxStatHead[] = [{ kind: 'stat', stat: 'sum' }, { kind: 'stat', stat: 'sumsq' }]

function headCount (call: KernelCall): number {
  return call.kind === 'multi' ? call.parts.reduce((n, p) => n + headCount(p), 0) : call.heads.length
}

/** The call's last part with the stat heads added when it reads the softmax of `x`, else a part of its own after it. */
function withStats (call: KernelCall, x: Float32Array): KernelCall {
  const parts: readonly SingleCall[] = call.kind === 'multi' ? call.parts : [call]
  const last = parts[parts.length - 1] as SingleCall
  const { rows, classes } = last
  const own: SingleCall = { kind: 'softmax-dense', rows, classes, x, heads: STATS }
  // Only the last part can take heads: the heads of the parts before keep their indices.
  const shared = last.kind !== 'sigmoid' && sameVector(last.x, x)
  const stats = shared ? withHeadsOf(last, last.kind === 'softmax-index' ? { ...last, heads: STATS } : own) as SingleCall : own
  const next = shared ? [...parts.slice(0, -1), stats] : [...parts, stats]
  return next.length === 1 ? stats : { kind: 'multi', rows, classes, parts: next }
}

/** `prepared` (the losses of a softmax batch) with the row statistics of the batch's softmax. */
export function withRowStats<T> (prepared: Prepared<T>, input: LossInput): Prepared<{ value: T, rows: RowStats }> {
  const at = headCount(prepared.call)
  return {
    call: withStats(prepared.call, asRows(input.logits, checkInput(input, 'softmax'))),
    finish: (outputs, offset = 0) => ({
      value: prepared.finish(outputs, offset),
      rows: { sum: head(outputs, offset + at), sumSq: head(outputs, offset + at + 1) }
    })
  }
}
