/**
 * A stand-in for a run's statistics: two float64 counters (rows, batches) that each delta adds to,
 * so a lost or doubled delta shows in the totals.
 */
import type { Merge, RunRecord } from '../../../src/store/index.js'

export function initial (): Uint8Array {
  return new Uint8Array(16)
}

export function read (state: Uint8Array): { rows: number, batches: number } {
  const view = new DataView(state.buffer, state.byteOffset, state.byteLength)
  return { rows: view.getFloat64(0, true), batches: view.getFloat64(8, true) }
}

/** A batch's delta: its rows, and one batch. */
export function delta (rows: number): Uint8Array {
  const next = new Uint8Array(16)
  const view = new DataView(next.buffer)
  view.setFloat64(0, rows, true)
  view.setFloat64(8, 1, true)
  return next
}

/** Adds the counters of the deltas to the state's. */
export const merge: Merge = (state, deltas) => {
  const sum = read(state)
  for (const d of deltas) {
    const { rows, batches } = read(d)
    sum.rows += rows
    sum.batches += batches
  }
  const next = new Uint8Array(16)
  const view = new DataView(next.buffer)
  view.setFloat64(0, sum.rows, true)
  view.setFloat64(8, sum.batches, true)
  return next
}

/** The counters of a run as stored: its state with its pending deltas added. */
export function counted (run: Pick<RunRecord, 'state' | 'pending'> | undefined): { rows: number, batches: number } {
  return run === undefined ? { rows: NaN, batches: NaN } : read(merge(run.state, run.pending))
}

/** A batch's row count, fixed by its id, so any process computes the same expected total. */
export function rowsOf (batchId: string): number {
  let h = 0
  for (let i = 0; i < batchId.length; i++) h = (h * 31 + batchId.charCodeAt(i)) % 1009
  return 1 + (h % 64)
}

export function digestOf (batchId: string): string {
  return `sha-${batchId}`
}
