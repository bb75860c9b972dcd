import type { KernelCall } from './kernels.js'

/**
 * A loss prepared for the kernels: the call to run, and how to turn the call's per-head outputs into
 * the result. Separating the two lets the engine run many plans' calls as one.
 */
export interface Plan<T> {
  readonly call: KernelCall
  finish (outputs: readonly Float32Array[]): T
}

/** One loss prepared for the kernels; `finish` reads head `headIndex` (0 alone) of the call's outputs. */
export interface Prepared<T> {
  readonly call: KernelCall
  finish (outputs: readonly Float32Array[], headIndex?: number): T
}

export function head (outputs: readonly Float32Array[], i: number): Float32Array {
  const out = outputs[i]
  if (out === undefined) throw new Error(`kernel returned no output for head ${i}`)
  return out
}
