/**
 * A batch into a PostgreSQL run, and the folding of its delta into the run's state later.
 *
 * A put is one statement, in a transaction of its own: it counts the batch on the run's row and
 * records the batch with its delta. The run's row is locked only while the server runs that
 * statement and commits it, never while this process waits for an answer or runs a merge on its
 * event loop, so the batches of one run from any number of replicas queue for microseconds, not
 * for round trips. Two puts of one batch id can both see no record of it (each in its own
 * snapshot); the batch record's primary key stops the second one, whose statement then writes
 * nothing, and it is tried again: it finds the record and is answered as a replay.
 *
 * A fold takes a transaction-scoped advisory lock of the run, without waiting (another fold of the
 * run is under way: nothing to do), reads the state and the pending deltas in one snapshot, merges
 * them here, and writes the state and clears the deltas it merged in one commit. Puts go on
 * meanwhile: their deltas are the next fold's.
 * @see https://www.postgresql.org/docs/15/transaction-iso.html#XACT-READ-COMMITTED
 * @see https://www.postgresql.org/docs/15/explicit-locking.html#ADVISORY-LOCKS
 */
import type pg from 'pg'
import { buffer, bytes, conflictMessage } from './common.js'
import type { Merge, PutOutcome, RunRecord, RunSummary } from './types.js'

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

export interface RecordRow extends Row { pending: Buffer[] }

/** The columns of a run as a record: the row and, read in the same snapshot, its pending deltas. */
export const RECORD = 'r.*, ARRAY(SELECT d.delta FROM deltas d WHERE d.run = r.seq) AS pending'

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

export function record (row: RecordRow): RunRecord {
  return { ...summary(row), state: bytes(row.state), pending: row.pending.map(bytes) }
}

const PUT = {
  name: 'run-put',
  text: `WITH counted AS (
      UPDATE runs r SET batches = r.batches + 1, rows = r.rows + $3, version = r.version + 1
      WHERE r.id = $1 AND r.status = 'open' AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.run = r.seq AND b.batch_id = $2)
      RETURNING r.seq, r.batches, r.rows
    ), recorded AS (
      INSERT INTO batches (run, batch_id, digest, rows, batches_after, rows_after, created)
      SELECT seq, $2, $4, $3, batches, rows, $5 FROM counted
    ), pending AS (
      INSERT INTO deltas (run, batch_id, delta) SELECT seq, $2, $6 FROM counted
    )
    SELECT batches, rows FROM counted`
}

const LOOKUP = {
  name: 'run-put-lookup',
  text: `SELECT r.status, b.digest, b.batches_after, b.rows_after FROM runs r
    LEFT JOIN batches b ON b.run = r.seq AND b.batch_id = $2 WHERE r.id = $1`
}

interface Lookup { status: 'open' | 'closed', digest: string | null, batches_after: number | null, rows_after: string | null }

const UNIQUE_VIOLATION = '23505'

/** How many times a put that lost a race on its batch id is tried again; the second try finds the record. */
const ATTEMPTS = 3

/** One batch into run `runId`, counted once whichever replica puts it first. */
export async function putOne (pool: pg.Pool, at: Date, runId: string, batchId: string, digest: string, rows: number, delta: Uint8Array): Promise<PutOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      const counted = await pool.query<{ batches: number, rows: string }>({ ...PUT, values: [runId, batchId, rows, digest, at, buffer(delta)] })
      const added = counted.rows[0]
      if (added !== undefined) return { kind: 'added', progress: { batches: added.batches, rows: Number(added.rows) } }
      const [found] = (await pool.query<Lookup>({ ...LOOKUP, values: [runId, batchId] })).rows
      if (found === undefined) return { kind: 'missing' }
      if (found.digest !== null) {
        return found.digest === digest
          ? { kind: 'replayed', progress: { batches: found.batches_after ?? 0, rows: Number(found.rows_after) } }
          : { kind: 'conflict', message: conflictMessage(batchId) }
      }
      if (found.status === 'closed') return { kind: 'closed' }
    } catch (err) {
      if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err
    }
    if (attempt === ATTEMPTS) throw new Error(`batch ${JSON.stringify(batchId)} of run ${runId}: neither counted nor recorded after ${ATTEMPTS} attempts`)
  }
}

/** Folds the pending deltas of run `runId` (src/store/types.ts RunStore.fold) with `client`, in a transaction. */
export async function foldRun (client: pg.PoolClient, runId: string, merge: Merge): Promise<number> {
  const [, lock] = await Promise.all([
    client.query('BEGIN'),
    client.query<{ held: boolean }>({
      name: 'run-fold-lock',
      text: "SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.runs.fold.' || $1)) AS held",
      values: [runId]
    })
  ])
  if (lock.rows[0]?.held !== true) {
    await client.query('COMMIT')
    return 0
  }
  // After the lock: this snapshot sees every fold that committed before it.
  const read = await client.query<{ seq: string, state: Buffer, batch_id: string, delta: Buffer }>({
    name: 'run-fold-read',
    text: 'SELECT r.seq, r.state, d.batch_id, d.delta FROM runs r JOIN deltas d ON d.run = r.seq WHERE r.id = $1',
    values: [runId]
  })
  const first = read.rows[0]
  if (first === undefined) {
    await client.query('COMMIT')
    return 0
  }
  const state = merge(bytes(first.state), read.rows.map((row) => bytes(row.delta)))
  await Promise.all([
    client.query({ name: 'run-fold-state', text: 'UPDATE runs SET state = $2 WHERE seq = $1', values: [first.seq, buffer(state)] }),
    client.query({
      name: 'run-fold-clear',
      text: 'DELETE FROM deltas WHERE run = $1 AND batch_id = ANY($2::text[])',
      values: [first.seq, read.rows.map((row) => row.batch_id)]
    }),
    client.query('COMMIT')
  ])
  return read.rows.length
}
