/**
 * What the runs layer asks of its database. A run's merged statistics are opaque bytes here: the
 * store never reads them, it hands them to the caller's merge inside the transaction that holds the
 * run, so concurrent batches from any number of processes or replicas are merged one after another.
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
  /** The merged statistics of every batch so far. */
  state: Uint8Array
  /** Incremented by every write to the run (a batch added, the run closed). */
  version: number
}

/** A run as listed: everything but its statistics. */
export type RunSummary = Omit<RunRecord, 'state'>

export interface NewRun {
  name?: string
  metadata: Record<string, unknown>
  options: unknown
  classes: number
  state: Uint8Array
}

export interface Progress { batches: number, rows: number }

export type PutOutcome =
  /** Merged and counted; progress includes this batch. */
  | { kind: 'added', run: RunRecord, progress: Progress }
  /** This batch id with this digest was added before: nothing written; progress as it was then. */
  | { kind: 'replayed', run: RunRecord, progress: Progress }
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
   * In one transaction: locks the run, answers a retried batch id from its record, else stores
   * merge(previous state) with the counters and the batch record. A batch id seen before is
   * answered (replayed or conflict) even once the run is closed, so a client retrying a batch
   * whose answer it lost learns that it was counted.
   */
  putBatch (runId: string, batchId: string, digest: string, rows: number,
    merge: (state: Uint8Array) => Uint8Array): Promise<PutOutcome>
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
