/**
 * What the runs layer asks of its database. A run's statistics are opaque bytes here: each batch
 * brings its own (its delta), which the store records with the batch, in the transaction that
 * counts it, and later folds into the run's state with the caller's merge. Until a delta is folded
 * it is returned with the run as pending: state and pending together are every batch counted, read
 * in one snapshot. How soon a store folds is its own choice (src/store/sqlite.ts, postgres.ts).
 */

export type RunStatus = 'open' | 'closed'

export interface RunRecord {
  id: string
  name: string | null
  metadata: Record<string, unknown>
  /** The scoring options the run was created with, stored as JSON. */
  options: unknown
  classes: number
  status: RunStatus
  /** ISO 8601, millisecond precision. */
  created: string
  closed: string | null
  batches: number
  rows: number
  /** The merged statistics of the batches folded so far. */
  state: Uint8Array
  /** The deltas of the batches counted but not folded into `state` yet, in no particular order. */
  pending: Uint8Array[]
  /** Incremented by every write to the run (a batch added, the run closed). */
  version: number
}

/** A run as listed: everything but its statistics. */
export type RunSummary = Omit<RunRecord, 'state' | 'pending'>

/**
 * Folds deltas into a state and returns the new state. It must not depend on the order of the
 * deltas beyond float64 rounding, and every put of one run passes the same one.
 */
export type Merge = (state: Uint8Array, deltas: readonly Uint8Array[]) => Uint8Array

export interface NewRun {
  name?: string
  metadata: Record<string, unknown>
  options: unknown
  classes: number
  state: Uint8Array
}

export interface Progress { batches: number, rows: number }

export type PutOutcome =
  /** Counted, its delta recorded; progress includes this batch. */
  | { kind: 'added', progress: Progress }
  /** This batch id with this digest was added before: nothing written; progress as it was then. */
  | { kind: 'replayed', progress: Progress }
  /** This batch id was added before with another digest. */
  | { kind: 'conflict', message: string }
  | { kind: 'closed' }
  | { kind: 'missing' }

export interface RunPage { runs: RunSummary[], next: string | null }

export interface RunStore {
  readonly dialect: 'sqlite' | 'postgres'
  /** Applies the migrations not applied yet; idempotent, safe when several processes start at once. */
  migrate (): Promise<void>
  /** Throws ConflictError when `maxOpen` runs are open already. */
  createRun (run: NewRun, maxOpen: number): Promise<RunRecord>
  getRun (id: string): Promise<RunRecord | undefined>
  /** Newest first; `next` is the cursor of the following page, null on the last one. */
  listRuns (page: { limit: number, cursor?: string }): Promise<RunPage>
  /** Closes an open run; a closed one is returned as it is; undefined when there is no such run. */
  closeRun (id: string): Promise<RunRecord | undefined>
  /** Deletes the run and its batch records; false when there was no such run. */
  deleteRun (id: string): Promise<boolean>
  /**
   * In one transaction: answers a retried batch id from its record, else counts the batch and
   * records it with its delta. A batch id seen before is answered (replayed or conflict) even once
   * the run is closed, so a client retrying a batch whose answer it lost learns that it was
   * counted. `merge` is what the store folds deltas with, now or later; a merge that throws
   * leaves the deltas pending and the state as it was, and does not fail the put.
   */
  putBatch (runId: string, batchId: string, digest: string, rows: number, delta: Uint8Array, merge: Merge): Promise<PutOutcome>
  /** Folds the run's pending deltas into its state now; how many it folded (0: none, or another fold holds the run). */
  fold (runId: string, merge: Merge): Promise<number>
  /** How many runs are open now, in the whole store (every process and replica). */
  openRuns (): Promise<number>
  /** Deletes the runs closed more than `olderThanDays` days ago; returns how many. */
  purgeClosed (olderThanDays: number): Promise<number>
  /** Throws UnavailableError when the database cannot be reached. */
  ping (): Promise<void>
  close (): Promise<void>
}

export interface StoreOptions {
  /** The clock, in milliseconds since the epoch; tests move it. */
  now?: () => number
}
