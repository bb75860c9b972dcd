/**
 * A stand-in for a run's statistics: two float64 counters (rows, batches) that each merge adds to,
 * so a lost or doubled merge shows in the totals.
 */
export function initial (): Uint8Array {
  return new Uint8Array(16)
}

export function read (state: Uint8Array): { rows: number, batches: number } {
  const view = new DataView(state.buffer, state.byteOffset, state.byteLength)
  return { rows: view.getFloat64(0, true), batches: view.getFloat64(8, true) }
}

export function add (rows: number): (state: Uint8Array) => Uint8Array {
  return (state) => {
    const before = read(state)
    const next = new Uint8Array(16)
    const view = new DataView(next.buffer)
    view.setFloat64(0, before.rows + rows, true)
    view.setFloat64(8, before.batches + 1, true)
    return next
  }
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
