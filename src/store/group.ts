/**
 * Group commit of the batches of one run, in both stores. The batches of a run that arrive while
 * its transaction is in flight (or in the same turn of the event loop) wait, and the next
 * transaction takes all of them: one lock of the run, one write, one commit (SQLite also merges
 * their deltas once). Each batch still gets its own outcome and progress, as if it had been put
 * alone. `applyGroup` is how SQLite decides the outcomes; PostgreSQL's statement decides them on
 * the server (src/store/pg-put.ts).
 */
import { conflictMessage } from './common.js'
import type { Merge, Progress, PutOutcome, RunSummary } from './types.js'

export interface PendingPut {
  readonly batchId: string
  readonly digest: string
  readonly rows: number
  readonly delta: Uint8Array
  readonly merge: Merge
  resolve (outcome: PutOutcome): void
  reject (err: unknown): void
}

/** A batch id already recorded for the run, with the progress it was counted at. */
export interface Seen { readonly digest: string, readonly progress: Progress }

export interface Added { readonly put: PendingPut, readonly batches: number, readonly rows: number }

interface Settled { readonly put: PendingPut, readonly outcome: PutOutcome }

export interface Applied {
  /** Each batch's outcome, delivered by `settle` once the write committed. */
  readonly outcomes: readonly Settled[]
  /** The batches to record, in order. */
  readonly added: readonly Added[]
  /** The run's progress after every added batch. */
  readonly progress: Progress
}

/** The outcome of each batch of `group` against `run` as read under its lock (undefined: no such run). */
export function applyGroup (run: Pick<RunSummary, 'status' | 'batches' | 'rows'> | undefined, seen: Map<string, Seen>, group: readonly PendingPut[]): Applied {
  const outcomes: Settled[] = []
  const added: Added[] = []
  let progress: Progress = { batches: run?.batches ?? 0, rows: run?.rows ?? 0 }
  for (const put of group) {
    const before = seen.get(put.batchId)
    if (run === undefined) outcomes.push({ put, outcome: { kind: 'missing' } })
    else if (before !== undefined) {
      outcomes.push({
        put,
        outcome: before.digest === put.digest
          ? { kind: 'replayed', progress: before.progress }
          : { kind: 'conflict', message: conflictMessage(put.batchId) }
      })
    } else if (run.status !== 'open') outcomes.push({ put, outcome: { kind: 'closed' } })
    else {
      progress = { batches: progress.batches + 1, rows: progress.rows + put.rows }
      seen.set(put.batchId, { digest: put.digest, progress })
      added.push({ put, ...progress })
      outcomes.push({ put, outcome: { kind: 'added', progress } })
    }
  }
  return { outcomes, added, progress }
}

export function settle (applied: Applied): void {
  for (const o of applied.outcomes) o.put.resolve(o.outcome)
}

/** At most this many batches in one transaction, so that one group's write stays small. */
const GROUP = 64

/**
 * The batches waiting per run, and the one transaction in flight per run in this process. `commit`
 * runs one group's transaction and settles its batches; when it rejects, every batch of the group
 * is rejected with its error (none of them was written).
 */
export class GroupCommit {
  private readonly waiting = new Map<string, PendingPut[]>()

  constructor (private readonly commit: (runId: string, group: readonly PendingPut[]) => Promise<void>) {}

  put (runId: string, put: Omit<PendingPut, 'resolve' | 'reject'>): Promise<PutOutcome> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(runId)
      const pending = { ...put, resolve, reject }
      if (queue !== undefined) {
        queue.push(pending)
        return
      }
      this.waiting.set(runId, [pending])
      // The batches scored in the same call of the dynamic batcher arrive in this turn: one group.
      setImmediate(() => this.drain(runId))
    })
  }

  /** Runs groups for `runId` until nothing waits; the queue's presence marks a transaction in flight. */
  private drain (runId: string): void {
    const queue = this.waiting.get(runId)
    if (queue === undefined) return
    if (queue.length === 0) {
      this.waiting.delete(runId)
      return
    }
    const group = queue.splice(0, GROUP)
    this.commit(runId, group)
      .catch((err: unknown) => { for (const p of group) p.reject(err) })
      .finally(() => this.drain(runId))
  }
}
