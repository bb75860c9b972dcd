/**
 * Batches into a PostgreSQL run, committed in groups. A batch locks its run's row from the answer to
 * the lock until COMMIT, and in between this process has to run the merge on its event loop, which
 * may be busy scoring other batches: one batch per lock would make every batch of a busy run wait
 * for those delays in turn. So the batches of one run that arrive while its transaction is in flight
 * wait, and the next transaction takes all of them: one lock, one merge after another, one write
 * (group commit). Each batch still gets its own outcome and progress, as if it had been put alone.
 *
 * The client runs in pg's pipeline mode, which writes a query without waiting for the answer to the
 * one before, so a group costs two round trips: BEGIN, the lock and the lookup of its batch ids go
 * together, and so do the write and COMMIT; every value is a bind parameter. The lookup is its own
 * statement after the lock, so under READ COMMITTED it sees whatever the transaction it waited for
 * committed: a batch id is always looked up under its run's lock, and the batch record's primary key
 * is a second guard.
 * @see https://www.postgresql.org/docs/15/transaction-iso.html#XACT-READ-COMMITTED
 */
import type pg from 'pg'
import { buffer, bytes, conflictMessage } from './common.js'
import type { PutOutcome, RunRecord, RunSummary } from './types.js'

export interface Row {
  seq: string,
  id: string,
  name: string | null,
  metadata: Record<string, unknown>,
  options: unknown,
  classes: number,
  status: 'open' | 'closed',
  created: Date,
  closed: Date | null,
  batches: number,
  rows: string,
  state: Buffer,
  version: number
}

export function summary (row: Omit<Row, 'state'>): RunSummary {
  return {
    id: row.id,
    name: row.name,
    metadata: row.metadata,
    options: row.options,
    classes: row.classes,
    status: row.status,
    created: row.created.toISOString(),
    closed: row.closed === null ? null : row.closed.toISOString(),
    batches: row.batches,
    rows: Number(row.rows),
    version: row.version
  }
}

export function record (row: Row): RunRecord {
  return { ...summary(row), state: bytes(row.state) }
}

export interface PendingPut {
  readonly batchId: string
  readonly digest: string
  readonly rows: number
  readonly merge: (state: Uint8Array) => Uint8Array
  resolve (outcome: PutOutcome): void
  reject (err: unknown): void
}

/** At most this many batches in one transaction, so that one group's write stays small. */
const GROUP = 64

interface Seen { batch_id: string, digest: string, batches_after: number, rows_after: string }

/** One transaction for `group`, all of run `runId`; settles each batch's promise once it committed. */
async function putGroup (client: pg.PoolClient, at: Date, runId: string, group: readonly PendingPut[]): Promise<void> {
  const [, locked, looked] = await Promise.all([
    client.query('BEGIN'),
    client.query<Row>('SELECT r.* FROM runs r WHERE r.id = $1 FOR UPDATE OF r', [runId]),
    client.query<Seen>(`SELECT b.batch_id, b.digest, b.batches_after, b.rows_after FROM batches b JOIN runs r ON r.seq = b.run
      WHERE r.id = $1 AND b.batch_id = ANY($2::text[])`, [runId, group.map((p) => p.batchId)])
  ])
  const run = locked.rows[0]
  const outcomes: Array<{ put: PendingPut, outcome: PutOutcome } | { put: PendingPut, error: unknown }> = []
  const seen = new Map(looked.rows.map((s) => [s.batch_id, { digest: s.digest, progress: { batches: s.batches_after, rows: Number(s.rows_after) } }]))
  const added: Array<{ put: PendingPut, batches: number, rows: number }> = []
  let state = run === undefined ? new Uint8Array() : bytes(run.state)
  let progress = { batches: run?.batches ?? 0, rows: Number(run?.rows ?? 0) }
  for (const put of group) {
    const before = seen.get(put.batchId)
    if (run === undefined) outcomes.push({ put, outcome: { kind: 'missing' } })
    else if (before !== undefined) {
      outcomes.push({
        put,
        outcome: before.digest === put.digest
          ? { kind: 'replayed', run: record(run), progress: before.progress }
          : { kind: 'conflict', message: conflictMessage(put.batchId) }
      })
    } else if (run.status !== 'open') outcomes.push({ put, outcome: { kind: 'closed' } })
    else {
      try {
        state = put.merge(state)
      } catch (error) {
        // A merge that throws fails its own batch only; the state stays as it was before it.
        outcomes.push({ put, error })
        continue
      }
      progress = { batches: progress.batches + 1, rows: progress.rows + put.rows }
      seen.set(put.batchId, { digest: put.digest, progress })
      added.push({ put, ...progress })
      outcomes.push({ put, outcome: { kind: 'added', run: { ...summary(run), ...progress, state, version: run.version + added.length }, progress } })
    }
  }
  if (run === undefined || added.length === 0) {
    await client.query('COMMIT')
  } else {
    await Promise.all([
      client.query(`WITH updated AS (
          UPDATE runs SET state = $2, batches = $3, rows = $4, version = version + $5 WHERE seq = $1 RETURNING seq)
        INSERT INTO batches (run, batch_id, digest, rows, batches_after, rows_after, created)
          SELECT updated.seq, b.id, b.digest, b.rows, b.batches, b.total, $11
          FROM updated, unnest($6::text[], $7::text[], $8::integer[], $9::integer[], $10::bigint[]) AS b (id, digest, rows, batches, total)`,
      [run.seq, buffer(state), progress.batches, progress.rows, added.length,
        added.map((a) => a.put.batchId), added.map((a) => a.put.digest), added.map((a) => a.put.rows),
        added.map((a) => a.batches), added.map((a) => a.rows), at]),
      client.query('COMMIT')
    ])
  }
  for (const o of outcomes) 'error' in o ? o.put.reject(o.error) : o.put.resolve(o.outcome)
}

/**
 * The batches waiting per run, and the one transaction in flight per run in this process. `run`
 * gives a pooled client for a transaction (and drops it on failure); a group that fails rejects
 * every batch in it, none of which was written.
 */
export class GroupCommit {
  private readonly waiting = new Map<string, PendingPut[]>()

  constructor (private readonly withClient: <T>(fn: (client: pg.PoolClient) => Promise<T>) => Promise<T>, private readonly now: () => number) {}

  put (runId: string, put: Omit<PendingPut, 'resolve' | 'reject'>): Promise<PutOutcome> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(runId)
      const pending = { ...put, resolve, reject }
      if (queue !== undefined) {
        queue.push(pending)
        return
      }
      this.waiting.set(runId, [pending])
      this.drain(runId)
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
    this.withClient(async (client) => { await putGroup(client, new Date(this.now()), runId, group) })
      .catch((err: unknown) => { for (const p of group) p.reject(err) })
      .finally(() => this.drain(runId))
  }
}
