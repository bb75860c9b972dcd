/**
 * Batches into a PostgreSQL run, and the folding of their deltas into the run's state later.
 *
 * The batches of one run that wait in this process (src/store/group.ts) are put by one statement,
 * in a transaction of its own: it counts them on the run's row and records each with its delta.
 * The run's row is locked only while the server runs that statement and commits it, never while
 * this process waits for an answer or runs a merge on its event loop, and one lock, one row
 * version and one commit flush serve the whole group, so the batches of one run from any number of
 * replicas queue for microseconds, not for round trips. Two puts of one batch id can both see no
 * record of it (each in its own snapshot); the batch record's primary key stops the second one,
 * whose statement then writes nothing, and it is tried again: its snapshot now holds the record.
 * A batch the statement did not count (a retry, a closed or missing run) is answered alone, and
 * so is a group of one batch id: the statement for one batch costs the server about half as much.
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
import type { PendingPut } from './group.js'
import type { Merge, Progress, PutOutcome, RunRecord, RunSummary } from './types.js'

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

/**
 * The batches of a group arrive as arrays, their deltas as one bytea cut by (start, size): a
 * bytea array would travel as hex text. Each counted batch's progress is the run's after the
 * statement less what the batches after it in the group added.
 */
const PUT_GROUP = {
  name: 'run-put-group',
  text: `WITH input AS (
      SELECT i.batch_id, i.digest, i.rows, substring($5::bytea FROM i.start FOR i.size) AS delta, i.ord
      FROM unnest($2::text[], $3::text[], $4::int[], $6::int[], $7::int[]) WITH ORDINALITY AS i(batch_id, digest, rows, start, size, ord)
    ), fresh AS (
      SELECT i.* FROM input i
      WHERE NOT EXISTS (SELECT 1 FROM batches b JOIN runs r ON r.seq = b.run WHERE r.id = $1 AND b.batch_id = i.batch_id)
    ), counted AS (
      UPDATE runs r SET batches = r.batches + f.n, rows = r.rows + f.rows, version = r.version + f.n
      FROM (SELECT count(*)::int AS n, sum(rows)::bigint AS rows FROM fresh) f
      WHERE r.id = $1 AND r.status = 'open' AND f.n > 0
      RETURNING r.seq, r.batches - f.n AS batches_before, r.rows - f.rows AS rows_before
    ), numbered AS (
      SELECT c.seq, f.batch_id, f.digest, f.rows, f.delta,
        (c.batches_before + row_number() OVER w)::int AS batches_after,
        c.rows_before + sum(f.rows) OVER w AS rows_after
      FROM fresh f CROSS JOIN counted c WINDOW w AS (ORDER BY f.ord)
    ), recorded AS (
      INSERT INTO batches (run, batch_id, digest, rows, batches_after, rows_after, created)
      SELECT seq, batch_id, digest, rows, batches_after, rows_after, $8 FROM numbered
    ), pending AS (
      INSERT INTO deltas (run, batch_id, delta) SELECT seq, batch_id, delta FROM numbered
    )
    SELECT batch_id, batches_after, rows_after FROM numbered`
}

/**
 * The batches of `group` into run `runId`, each settled with its outcome: those the group's
 * statement counted as added, the others (a batch id seen before, in the store or earlier in the
 * group; a closed or missing run) by a put of their own. Rejects when a statement fails for
 * another reason than a lost race; the batches not settled by then take that error (GroupCommit).
 */
export async function putGroup (pool: pg.Pool, at: Date, runId: string, group: readonly PendingPut[]): Promise<void> {
  const first = new Map<string, PendingPut>()
  for (const put of group) if (!first.has(put.batchId)) first.set(put.batchId, put)
  const puts = [...first.values()]
  // One batch id is cheaper to put by the statement made for one (below, as a put of its own).
  const added = puts.length > 1 ? await countGroup(pool, at, runId, puts) : new Map<string, Progress>()
  const alone: PendingPut[] = []
  for (const put of group) {
    const progress = first.get(put.batchId) === put ? added.get(put.batchId) : undefined
    if (progress === undefined) alone.push(put)
    else put.resolve({ kind: 'added', progress })
  }
  // One after another: copies of one batch id must not race each other.
  for (const put of alone) put.resolve(await putOne(pool, at, runId, put.batchId, put.digest, put.rows, put.delta))
}

/** The progress of each of `puts` (distinct batch ids) that PUT_GROUP counted. */
async function countGroup (pool: pg.Pool, at: Date, runId: string, puts: readonly PendingPut[]): Promise<Map<string, Progress>> {
  const values = [
    runId,
    puts.map((p) => p.batchId),
    puts.map((p) => p.digest),
    puts.map((p) => p.rows),
    Buffer.concat(puts.map((p) => p.delta)),
    starts(puts),
    puts.map((p) => p.delta.byteLength),
    at
  ]
  for (let attempt = 1; ; attempt++) {
    try {
      const counted = await pool.query<{ batch_id: string, batches_after: number, rows_after: string }>({ ...PUT_GROUP, values })
      return new Map(counted.rows.map((row) => [row.batch_id, { batches: row.batches_after, rows: Number(row.rows_after) }]))
    } catch (err) {
      if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION || attempt === ATTEMPTS) throw err
    }
  }
}

/** Where each put's delta starts in their concatenation, 1-based as SQL's substring counts. */
function starts (puts: readonly PendingPut[]): number[] {
  const at: number[] = []
  let next = 1
  for (const put of puts) {
    at.push(next)
    next += put.delta.byteLength
  }
  return at
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
