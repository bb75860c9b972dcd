/**
 * One group of batches into a PostgreSQL run (src/store/group.ts). A group locks its run's row from
 * the answer to the lock until COMMIT, and in between this process has to run the merges on its
 * event loop, which may be busy scoring other batches: one batch per lock would make every batch of
 * a busy run wait for those delays in turn, one group per lock pays them once.
 *
 * The client runs in pg's pipeline mode, which writes a query without waiting for the answer to the
 * one before, so a group costs two round trips: BEGIN, the lock and the lookup of its batch ids go
 * together, and so do the write and COMMIT. Every value is a bind parameter, and the three
 * statements are named, so each connection has the server parse and plan them once. The lookup is
 * its own statement after the lock, so under READ COMMITTED it sees whatever the transaction it
 * waited for committed: a batch id is always looked up under its run's lock, and the batch
 * record's primary key is a second guard.
 * @see https://www.postgresql.org/docs/15/transaction-iso.html#XACT-READ-COMMITTED
 */
import type pg from 'pg'
import { buffer, bytes } from './common.js'
import { applyGroup, settle, type PendingPut, type Seen } from './group.js'
import type { RunRecord, RunSummary } from './types.js'

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

interface Recorded { batch_id: string, digest: string, batches_after: number, rows_after: string }

/** One transaction for `group`, all of run `runId`; settles each batch's promise once it committed. */
export async function putGroup (client: pg.PoolClient, at: Date, runId: string, group: readonly PendingPut[]): Promise<void> {
  const [, locked, looked] = await Promise.all([
    client.query('BEGIN'),
    client.query<Row>({ name: 'run-lock', text: 'SELECT r.* FROM runs r WHERE r.id = $1 FOR UPDATE OF r', values: [runId] }),
    client.query<Recorded>({
      name: 'run-batches',
      text: `SELECT b.batch_id, b.digest, b.batches_after, b.rows_after FROM batches b JOIN runs r ON r.seq = b.run
        WHERE r.id = $1 AND b.batch_id = ANY($2::text[])`,
      values: [runId, group.map((p) => p.batchId)]
    })
  ])
  const row = locked.rows[0]
  const seen = new Map(looked.rows.map((s): [string, Seen] => [s.batch_id, { digest: s.digest, progress: { batches: s.batches_after, rows: Number(s.rows_after) } }]))
  const applied = applyGroup(row === undefined ? undefined : record(row), seen, group)
  const { added, progress } = applied
  if (row === undefined || added.length === 0) {
    await client.query('COMMIT')
  } else {
    await Promise.all([
      client.query({
        name: 'run-write',
        text: `WITH updated AS (
            UPDATE runs SET state = $2, batches = $3, rows = $4, version = version + $5 WHERE seq = $1 RETURNING seq)
          INSERT INTO batches (run, batch_id, digest, rows, batches_after, rows_after, created)
            SELECT updated.seq, b.id, b.digest, b.rows, b.batches, b.total, $11
            FROM updated, unnest($6::text[], $7::text[], $8::integer[], $9::integer[], $10::bigint[]) AS b (id, digest, rows, batches, total)`,
        values: [row.seq, buffer(applied.state), progress.batches, progress.rows, added.length,
          added.map((a) => a.put.batchId), added.map((a) => a.put.digest), added.map((a) => a.put.rows),
          added.map((a) => a.batches), added.map((a) => a.rows), at]
      }),
      client.query('COMMIT')
    ])
  }
  settle(applied)
}
