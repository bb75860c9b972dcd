/**
 * The shared store: PostgreSQL, for any number of replicas behind a load balancer.
 *
 * SQL per dialect rather than a query builder, because the locking is what differs: the batches
 * of a run waiting in this process are counted on its run's row by one statement that also
 * records each with its delta (concurrent groups of one run, from any replica, queue on that row
 * only while the server runs the statement), with the batch record's primary key as the last word
 * on a batch id; every FOLD_EVERY batches, the put that counted the last of them folds the
 * pending deltas into the run's state in the background (src/store/pg-put.ts). Creating a run and migrating take transaction-scoped
 * advisory locks, because there is no row to lock yet. Every value travels as a bind parameter,
 * never inside the SQL text.
 *
 * The pool drops a client on any error inside a transaction (the server rolls back what the lost
 * session had begun), so a server that went away and came back leaves no broken connection behind.
 * @see https://www.postgresql.org/docs/15/transaction-iso.html#XACT-READ-COMMITTED (the lock wait and its snapshot)
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { buffer, DAY_MS, decodeCursor, encodeCursor, isRunId, tooManyRuns } from './common.js'
import { unavailable } from './pg-errors.js'
import { GroupCommit } from './group.js'
import { foldRun, putGroup, RECORD, record, summary, type RecordRow, type Row } from './pg-put.js'
import type { Merge, NewRun, PutOutcome, RunPage, RunStore, StoreOptions } from './types.js'

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
}, {
  version: 2,
  name: 'batch deltas, kept until folded into the run',
  // Apart from the batch records, which stay as written: a fold deletes what it merged.
  // Raw float64s do not compress: stored out of line as they are, without pglz trying.
  sql: `
    CREATE TABLE deltas (
      run bigint NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
      batch_id text NOT NULL,
      delta bytea NOT NULL,
      PRIMARY KEY (run, batch_id)
    );
    ALTER TABLE deltas ALTER COLUMN delta SET STORAGE EXTERNAL;`
}]

/** A run's pending deltas are folded every this many batches: what a read merges and a run keeps at most, about. */
export const FOLD_EVERY = 16

const SUMMARY = 'seq, id, name, metadata, options, classes, status, created, closed, batches, rows, version'

const noop = () => {}

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

  const fold = (runId: string, merge: Merge) => withClient((client) => foldRun(client, runId, merge))
  /** The folds started by puts, so that close() waits for them. */
  const folding = new Set<Promise<unknown>>()
  /** A fold after a put: its failure leaves the deltas pending for the next one, and reads merge them meanwhile. */
  function foldLater (runId: string, merge: Merge): void {
    const started = fold(runId, merge).catch(noop).finally(() => folding.delete(started))
    folding.add(started)
  }
  const groups = new GroupCommit((runId, group) => guarded(() => putGroup(pool, new Date(now()), runId, group)))
  async function getRun (id: string) {
    if (!isRunId(id)) return undefined
    const [row] = await query<RecordRow>(`SELECT ${RECORD} FROM runs r WHERE r.id = $1`, [id])
    return row === undefined ? undefined : record(row)
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
      return record({ ...inserted.rows[0] as Row, pending: [] })
    }),
    getRun,
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
      await query("UPDATE runs SET status = 'closed', closed = $2, version = version + 1 WHERE id = $1 AND status = 'open'", [id, new Date(now())])
      return await getRun(id)
    },
    deleteRun: async (id: string) => isRunId(id) && (await guarded(() => pool.query('DELETE FROM runs WHERE id = $1', [id]))).rowCount === 1,
    putBatch: async (runId, batchId, digest, rows, delta, merge): Promise<PutOutcome> => {
      if (!isRunId(runId)) return { kind: 'missing' }
      const outcome = await groups.put(runId, { batchId, digest, rows, delta, merge })
      if (outcome.kind === 'added' && outcome.progress.batches % FOLD_EVERY === 0) foldLater(runId, merge)
      return outcome
    },
    fold: async (runId: string, merge: Merge) => isRunId(runId) ? await fold(runId, merge) : 0,
    openRuns: async () => (await query<{ n: number }>("SELECT count(*)::int AS n FROM runs WHERE status = 'open'"))[0]?.n ?? 0,
    purgeClosed: async (olderThanDays: number) => (await guarded(() =>
      pool.query("DELETE FROM runs WHERE status = 'closed' AND closed < $1", [new Date(now() - olderThanDays * DAY_MS)]))).rowCount ?? 0,
    ping: async () => { await query('SELECT 1') },
    close: async () => {
      await Promise.all(folding)
      await pool.end()
    }
  }
}
