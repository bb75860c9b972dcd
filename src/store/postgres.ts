/**
 * The shared store: PostgreSQL, for any number of replicas behind a load balancer.
 *
 * SQL per dialect rather than a query builder, because the locking is what differs: a batch locks
 * its run's row with `SELECT … FOR UPDATE` (concurrent batches of one run queue on that row, in any
 * replica), with the batch record's primary key as the last word on a batch id; creating a run and
 * migrating take transaction-scoped advisory locks, because there is no row to lock yet. Round
 * trips are what a batch costs here, so a put pipelines its four statements into two (see put()).
 * Every value travels as a bind parameter, never inside the SQL text.
 *
 * The pool drops a client on any error inside a transaction (the server rolls back what the lost
 * session had begun), so a server that went away and came back leaves no broken connection behind.
 * @see https://www.postgresql.org/docs/15/transaction-iso.html#XACT-READ-COMMITTED (the lock wait and its snapshot)
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { buffer, bytes, conflictMessage, DAY_MS, decodeCursor, encodeCursor, isRunId, tooManyRuns } from './common.js'
import { unavailable } from './pg-errors.js'
import type { NewRun, PutOutcome, RunPage, RunRecord, RunStore, RunSummary, StoreOptions } from './types.js'

const MIGRATIONS: ReadonlyArray<{ version: number, name: string, sql: string }> = [{
  version: 1,
  name: 'runs and their batch records',
  sql: `
    CREATE TABLE runs (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id uuid NOT NULL UNIQUE,
      name text,
      metadata json NOT NULL,
      options json NOT NULL,
      classes integer NOT NULL,
      status text NOT NULL CHECK (status IN ('open', 'closed')),
      created timestamptz NOT NULL,
      closed timestamptz,
      batches integer NOT NULL DEFAULT 0,
      rows bigint NOT NULL DEFAULT 0,
      state bytea NOT NULL,
      version integer NOT NULL DEFAULT 1
    );
    CREATE INDEX runs_listed ON runs (created DESC, id DESC);
    CREATE INDEX runs_closed ON runs (closed) WHERE status = 'closed';
    -- Keyed by the run's bigint seq rather than its uuid, to keep a batch record small.
    CREATE TABLE batches (
      run bigint NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
      batch_id text NOT NULL,
      digest text NOT NULL,
      rows integer NOT NULL,
      batches_after integer NOT NULL,
      rows_after bigint NOT NULL,
      created timestamptz NOT NULL,
      PRIMARY KEY (run, batch_id)
    );`
}]

const SUMMARY = 'seq, id, name, metadata, options, classes, status, created, closed, batches, rows, version'

interface Row {
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

function summary (row: Omit<Row, 'state'>): RunSummary {
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

function record (row: Row): RunRecord {
  return { ...summary(row), state: bytes(row.state) }
}

const noop = () => {}

interface Seen { seen_digest: string | null, seen_batches: number | null, seen_rows: string | null }

/**
 * Two round trips, with the run locked for one of them plus the merge: the client runs in pg's
 * pipeline mode, which writes a query without waiting for the answer to the one before, so BEGIN
 * travels with the lock and COMMIT with the write, each statement with bind parameters. A statement
 * that fails aborts the transaction, and the COMMIT behind it then rolls back.
 *
 * The lookup of the batch id reads the snapshot taken before the lock wait, so a concurrent retry of
 * the same batch id can be missed; the batch record's primary key then refuses the second insert
 * (23505) and putBatch starts over, seeing it.
 */
async function put (client: pg.PoolClient, at: Date, runId: string, batchId: string, digest: string, rows: number,
  merge: (state: Uint8Array) => Uint8Array): Promise<PutOutcome> {
  const [, locked] = await Promise.all([
    client.query('BEGIN'),
    client.query<Row & Seen>(`SELECT r.*, b.digest AS seen_digest, b.batches_after AS seen_batches, b.rows_after AS seen_rows
      FROM runs r LEFT JOIN batches b ON b.run = r.seq AND b.batch_id = $2 WHERE r.id = $1 FOR UPDATE OF r`, [runId, batchId])
  ])
  const run = locked.rows[0]
  const outcome = decide(run, batchId, digest)
  if (outcome !== undefined || run === undefined) {
    await client.query('COMMIT')
    return outcome ?? { kind: 'missing' }
  }
  const state = merge(bytes(run.state))
  const progress = { batches: run.batches + 1, rows: Number(run.rows) + rows }
  await Promise.all([
    client.query(`WITH updated AS (
        UPDATE runs SET state = $2, batches = $3, rows = $4, version = version + 1 WHERE seq = $1 RETURNING seq)
      INSERT INTO batches (run, batch_id, digest, rows, batches_after, rows_after, created)
        SELECT seq, $5, $6, $7, $3, $4, $8 FROM updated`,
    [run.seq, buffer(state), progress.batches, progress.rows, batchId, digest, rows, at]),
    client.query('COMMIT')
  ])
  return { kind: 'added', run: { ...summary(run), ...progress, state, version: run.version + 1 }, progress }
}

/** The answer for a run and batch id that needs no write, or undefined when the batch is to be added. */
function decide (run: (Row & Seen) | undefined, batchId: string, digest: string): PutOutcome | undefined {
  if (run === undefined) return { kind: 'missing' }
  if (run.seen_digest !== null) {
    if (run.seen_digest !== digest) return { kind: 'conflict', message: conflictMessage(batchId) }
    return { kind: 'replayed', run: record(run), progress: { batches: run.seen_batches ?? 0, rows: Number(run.seen_rows) } }
  }
  if (run.status !== 'open') return { kind: 'closed' }
  return undefined
}

export function openPostgres (url: string, options: StoreOptions = {}): RunStore {
  const pool = new pg.Pool({
    connectionString: url,
    // pg 8.23's pipeline mode; @types/pg does not know it yet.
    ...{ pipeline: true },
    max: 10,
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 5000,
    // A replica that stops mid-transaction must not hold a run's lock for long.
    idle_in_transaction_session_timeout: 10_000,
    query_timeout: 10_000
  })
  // An idle client whose server went away: the pool discards it; the next query reports the outage.
  pool.on('error', noop)
  const now = options.now ?? Date.now

  async function guarded<T> (fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw unavailable(err) ?? err
    }
  }

  function query<T> (text: string, values: unknown[] = []): Promise<T[]> {
    return guarded(async () => (await pool.query(text, values)).rows as T[])
  }

  /** A pooled client for `fn`; on an error a healthy one is rolled back and reused, a failed one dropped. */
  function withClient<T> (fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return guarded(async () => {
      const client = await pool.connect()
      // A checked-out client has no error listener of the pool's: a server gone between two queries must not crash the process.
      client.on('error', noop)
      try {
        const result = await fn(client)
        client.removeListener('error', noop)
        client.release()
        return result
      } catch (err) {
        // The server rolls back for a connection that failed.
        const healthy = unavailable(err) === undefined && await client.query('ROLLBACK').then(() => true, () => false)
        client.removeListener('error', noop)
        client.release(!healthy)
        throw err
      }
    })
  }

  function transaction<T> (fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return withClient(async (client) => {
      await client.query('BEGIN')
      const result = await fn(client)
      await client.query('COMMIT')
      return result
    })
  }

  async function lock (client: pg.PoolClient, name: string): Promise<void> {
    await client.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.' || $1))", [name])
  }

  return {
    dialect: 'postgres',
    migrate: () => transaction(async (client) => {
      await lock(client, 'migrations')
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL)')
      const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version))
      for (const m of MIGRATIONS) {
        if (applied.has(m.version)) continue
        await client.query(m.sql)
        await client.query('INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)', [m.version, m.name, new Date(now())])
      }
    }),
    createRun: (run: NewRun, maxOpen: number) => transaction(async (client) => {
      await lock(client, 'runs.create')
      const open = (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM runs WHERE status = 'open'")).rows[0]?.n ?? 0
      if (open >= maxOpen) throw tooManyRuns(maxOpen)
      const inserted = await client.query<Row>(`INSERT INTO runs (id, name, metadata, options, classes, status, created, state)
        VALUES ($1, $2, $3::json, $4::json, $5, 'open', $6, $7) RETURNING *`,
      [randomUUID(), run.name ?? null, JSON.stringify(run.metadata), JSON.stringify(run.options ?? null), run.classes, new Date(now()), buffer(run.state)])
      return record(inserted.rows[0] as Row)
    }),
    getRun: async (id: string) => {
      if (!isRunId(id)) return undefined
      const [row] = await query<Row>('SELECT * FROM runs WHERE id = $1', [id])
      return row === undefined ? undefined : record(row)
    },
    listRuns: async (page: { limit: number, cursor?: string }): Promise<RunPage> => {
      const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor)
      const rows = after === undefined
        ? await query<Omit<Row, 'state'>>(`SELECT ${SUMMARY} FROM runs ORDER BY created DESC, id DESC LIMIT $1`, [page.limit + 1])
        : await query<Omit<Row, 'state'>>(`SELECT ${SUMMARY} FROM runs WHERE (created, id) < ($1, $2)
            ORDER BY created DESC, id DESC LIMIT $3`, [new Date(after.createdMs), after.id, page.limit + 1])
      const runs = rows.slice(0, page.limit)
      const last = runs.at(-1)
      return { runs: runs.map(summary), next: rows.length > page.limit && last !== undefined ? encodeCursor(last.created.getTime(), last.id) : null }
    },
    closeRun: async (id: string) => {
      if (!isRunId(id)) return undefined
      const [row] = await query<Row>(`UPDATE runs SET status = 'closed', closed = $2, version = version + 1
        WHERE id = $1 AND status = 'open' RETURNING *`, [id, new Date(now())])
      const current = row ?? (await query<Row>('SELECT * FROM runs WHERE id = $1', [id]))[0]
      return current === undefined ? undefined : record(current)
    },
    deleteRun: async (id: string) => isRunId(id) && (await guarded(() => pool.query('DELETE FROM runs WHERE id = $1', [id]))).rowCount === 1,
    putBatch: async (runId, batchId, digest, rows, merge): Promise<PutOutcome> => {
      if (!isRunId(runId)) return { kind: 'missing' }
      for (let attempt = 1; ; attempt++) {
        try {
          return await withClient((client) => put(client, new Date(now()), runId, batchId, digest, rows, merge))
        } catch (err) {
          // The same batch id committed by a concurrent retry after this statement's snapshot: try again, to replay it.
          if ((err as { code?: unknown }).code !== '23505' || attempt === 3) throw err
        }
      }
    },
    openRuns: async () => (await query<{ n: number }>("SELECT count(*)::int AS n FROM runs WHERE status = 'open'"))[0]?.n ?? 0,
    purgeClosed: async (olderThanDays: number) => (await guarded(() =>
      pool.query("DELETE FROM runs WHERE status = 'closed' AND closed < $1", [new Date(now() - olderThanDays * DAY_MS)]))).rowCount ?? 0,
    ping: async () => { await query('SELECT 1') },
    close: () => pool.end()
  }
}
