/**
 * The embedded store: one SQLite file shared by every process of the service (WORKERS > 1).
 *
 * SQL per dialect rather than a query builder, because what matters here is how each database
 * locks: every write runs in `BEGIN IMMEDIATE`, which takes the file's write lock before it reads,
 * so two processes never both read a run and then wait on each other to upgrade to the write lock
 * (with a deferred BEGIN one of them fails with SQLITE_BUSY at once, busy_timeout or not).
 * better-sqlite3 is synchronous, so within one process a transaction is never interleaved; the
 * batches of one run are committed in groups (src/store/group.ts), and a group's deltas are folded
 * into the run's state in its own transaction: nothing is left pending unless a merge threw.
 *
 * WAL with synchronous=NORMAL: a commit is in the WAL file (the OS's page cache) before it
 * returns, so it survives the process being killed (kill -9); only an OS crash or power loss can
 * lose the last commits. FULL would fsync every batch for that case.
 * @see https://www.sqlite.org/wal.html#concurrency
 * @see https://www.sqlite.org/pragma.html#pragma_synchronous
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { UnavailableError } from '../errors.js'
import { buffer, bytes, DAY_MS, decodeCursor, encodeCursor, isRunId, tooManyRuns } from './common.js'
import { applyGroup, GroupCommit, settle, type Applied, type PendingPut, type Seen } from './group.js'
import type { Merge, NewRun, PutOutcome, RunPage, RunRecord, RunStore, RunSummary, StoreOptions } from './types.js'

/** How long a process waits for another's write lock before the request gets 503. */
const BUSY_TIMEOUT_MS = 5000

const MIGRATIONS: ReadonlyArray<{ version: number, name: string, sql: string }> = [{
  version: 1,
  name: 'runs and their batch records',
  sql: `
    CREATE TABLE runs (
      seq INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      name TEXT,
      metadata TEXT NOT NULL,
      options TEXT NOT NULL,
      classes INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
      created INTEGER NOT NULL,
      closed INTEGER,
      batches INTEGER NOT NULL DEFAULT 0,
      rows INTEGER NOT NULL DEFAULT 0,
      state BLOB NOT NULL,
      version INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX runs_listed ON runs (created DESC, id DESC);
    CREATE INDEX runs_status ON runs (status, closed);
    -- Keyed by the run's integer seq, not its UUID, and WITHOUT ROWID, so a batch costs ~115 bytes.
    CREATE TABLE batches (
      run INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
      batch_id TEXT NOT NULL,
      digest TEXT NOT NULL,
      rows INTEGER NOT NULL,
      batches_after INTEGER NOT NULL,
      rows_after INTEGER NOT NULL,
      created INTEGER NOT NULL,
      PRIMARY KEY (run, batch_id)
    ) WITHOUT ROWID;`
}, {
  version: 2,
  name: 'batch deltas, kept until folded into the run',
  sql: `
    CREATE TABLE deltas (
      run INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
      batch_id TEXT NOT NULL,
      delta BLOB NOT NULL,
      PRIMARY KEY (run, batch_id)
    );`
}]

const SUMMARY = 'seq, id, name, metadata, options, classes, status, created, closed, batches, rows, version'

interface Row {
  seq: number,
  id: string,
  name: string | null,
  metadata: string,
  options: string,
  classes: number,
  status: 'open' | 'closed',
  created: number,
  closed: number | null,
  batches: number,
  rows: number,
  state: Buffer,
  version: number
}
interface Pending { batch_id: string, delta: Buffer }

interface BatchRow { digest: string, batches_after: number, rows_after: number }

function summary (row: Omit<Row, 'state'>): RunSummary {
  return {
    id: row.id,
    name: row.name,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    options: JSON.parse(row.options) as unknown,
    classes: row.classes,
    status: row.status,
    created: new Date(row.created).toISOString(),
    closed: row.closed === null ? null : new Date(row.closed).toISOString(),
    batches: row.batches,
    rows: row.rows,
    version: row.version
  }
}

function record (row: Row, pending: readonly Buffer[]): RunRecord {
  return { ...summary(row), state: bytes(row.state), pending: pending.map(bytes) }
}

/**
 * SQLITE_BUSY and SQLITE_LOCKED mean another process holds the file's write lock. The connection's
 * busy timeout is 0, so a call fails at once rather than sleeping on this process's event loop (a
 * sleeping busy handler would stall every other request of the process); it is retried after a
 * short, growing, jittered wait, and after BUSY_TIMEOUT_MS the request gets 503.
 */
function guard<A extends unknown[], T> (fn: (...args: A) => T): (...args: A) => Promise<T> {
  return async (...args) => {
    const deadline = Date.now() + BUSY_TIMEOUT_MS
    for (let wait = 1; ; wait = Math.min(2 * wait, 16)) {
      try {
        return fn(...args)
      } catch (err) {
        if (!isBusy(err)) throw err
        if (Date.now() + wait > deadline) throw new UnavailableError(`the run store is busy (${(err as { code: string }).code}); retry`)
      }
      await sleep(wait * (0.5 + Math.random()))
    }
  }
}

/** The state with `deltas` folded in, or null when the merge threw: then the deltas stay pending (RunStore.putBatch). */
function mergedOrNull (merge: Merge, state: Buffer, deltas: readonly Uint8Array[]): Buffer | null {
  try {
    return buffer(merge(bytes(state), deltas))
  } catch {
    return null
  }
}

function isBusy (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code)
}

/**
 * WAL is a property of the file, set by the first process to open it. Processes that start at once
 * on a new file can each hold a read lock while waiting for the exclusive one the switch needs, so
 * each tries with a short busy timeout and backs off for a random moment, rather than waiting out
 * the full one.
 */
function useWal (db: Database.Database): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS
  db.pragma('busy_timeout = 20')
  for (;;) {
    try {
      if (db.pragma('journal_mode', { simple: true }) === 'wal' || db.pragma('journal_mode = WAL', { simple: true }) === 'wal') break
    } catch (err) {
      if (!isBusy(err) || Date.now() > deadline) throw err
    }
    if (Date.now() > deadline) throw new UnavailableError('the run store could not switch its file to WAL; retry')
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5 + Math.random() * 45)
  }
  db.pragma('busy_timeout = 0')
}

export function openSqlite (dataDir: string, options: StoreOptions = {}): RunStore {
  mkdirSync(dataDir, { recursive: true })
  const db = new Database(join(dataDir, 'runs.sqlite'))
  useWal(db)
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  const now = options.now ?? Date.now
  // Prepared on first use: the tables exist only once migrate() has run.
  let prepared: ReturnType<typeof prepare> | undefined
  const st = () => (prepared ??= prepare(db))

  const migrate = db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)')
    const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[])
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)').run(m.version, m.name, now())
    }
  })

  const createRun = db.transaction((run: NewRun, maxOpen: number): RunRecord => {
    const open = st().countOpen.get() as number
    if (open >= maxOpen) throw tooManyRuns(maxOpen)
    const row = st().insertRun.get(randomUUID(), run.name ?? null, JSON.stringify(run.metadata),
      JSON.stringify(run.options ?? null), run.classes, now(), buffer(run.state)) as Row
    return record(row, [])
  })
  /** The run and its pending deltas, in one read transaction: one snapshot of both. */
  const getRun = db.transaction((id: string): RunRecord | undefined => {
    const row = st().getRun.get(id) as Row | undefined
    return row === undefined ? undefined : record(row, (st().pending.all(row.seq) as Pending[]).map((p) => p.delta))
  })

  /** One group of batches of one run (src/store/group.ts), under the file's write lock. */
  const putGroup = db.transaction((runId: string, group: readonly PendingPut[]): Applied => {
    const row = st().getRun.get(runId) as Row | undefined
    if (row === undefined) return applyGroup(undefined, new Map(), group)
    const seen = new Map<string, Seen>()
    for (const put of group) {
      const recorded = st().getBatch.get(row.seq, put.batchId) as BatchRow | undefined
      if (recorded !== undefined) seen.set(put.batchId, { digest: recorded.digest, progress: { batches: recorded.batches_after, rows: recorded.rows_after } })
    }
    const applied = applyGroup(row, seen, group)
    const { added, progress } = applied
    const first = added[0]
    if (first === undefined) return applied
    const state = mergedOrNull(first.put.merge, row.state, added.map((a) => a.put.delta))
    st().updateRun.run(state, progress.batches, progress.rows, added.length, row.seq)
    const at = now()
    for (const a of added) {
      st().insertBatch.run(row.seq, a.put.batchId, a.put.digest, a.put.rows, a.batches, a.rows, at)
      if (state === null) st().insertDelta.run(row.seq, a.put.batchId, buffer(a.put.delta))
    }
    return applied
  })
  const fold = db.transaction((runId: string, merge: Merge): number => {
    const row = st().getRun.get(runId) as Row | undefined
    if (row === undefined) return 0
    const pending = st().pending.all(row.seq) as Pending[]
    if (pending.length === 0) return 0
    st().foldRun.run(buffer(merge(bytes(row.state), pending.map((p) => bytes(p.delta)))), row.seq)
    for (const p of pending) st().folded.run(row.seq, p.batch_id)
    return pending.length
  })
  const closeRun = db.transaction((id: string): RunRecord | undefined => {
    st().closeRun.run(now(), id)
    return getRun(id)
  })
  const commitGroup = guard((runId: string, group: readonly PendingPut[]) => putGroup.immediate(runId, group))
  const groups = new GroupCommit(async (runId, group) => { settle(await commitGroup(runId, group)) })

  return {
    dialect: 'sqlite',
    migrate: guard(() => migrate.immediate()),
    createRun: guard((run: NewRun, maxOpen: number) => createRun.immediate(run, maxOpen)),
    getRun: guard((id: string) => getRun(id)),
    listRuns: guard((page: { limit: number, cursor?: string }): RunPage => {
      const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor)
      const rows = (after === undefined
        ? st().firstPage.all(page.limit + 1)
        : st().nextPage.all(after.createdMs, after.id, page.limit + 1)) as Array<Omit<Row, 'state'>>
      const runs = rows.slice(0, page.limit)
      const last = runs.at(-1)
      return { runs: runs.map(summary), next: rows.length > page.limit && last !== undefined ? encodeCursor(last.created, last.id) : null }
    }),
    closeRun: guard((id: string) => closeRun.immediate(id)),
    deleteRun: guard((id: string) => st().deleteRun.run(id).changes > 0),
    putBatch: async (runId, batchId, digest, rows, delta, merge): Promise<PutOutcome> =>
      isRunId(runId) ? await groups.put(runId, { batchId, digest, rows, delta, merge }) : { kind: 'missing' },
    fold: guard((runId: string, merge: Merge) => fold.immediate(runId, merge)),
    openRuns: guard(() => st().countOpen.get() as number),
    purgeClosed: guard((olderThanDays: number) => st().purge.run(now() - olderThanDays * DAY_MS).changes),
    ping: guard(() => { db.prepare('SELECT 1').get() }),
    close: async () => { db.close() }
  }
}

function prepare (db: Database.Database) {
  return {
    countOpen: db.prepare("SELECT count(*) FROM runs WHERE status = 'open'").pluck(),
    insertRun: db.prepare(`INSERT INTO runs (id, name, metadata, options, classes, status, created, state)
      VALUES (?, ?, ?, ?, ?, 'open', ?, ?) RETURNING *`),
    getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
    getBatch: db.prepare('SELECT digest, batches_after, rows_after FROM batches WHERE run = ? AND batch_id = ?'),
    pending: db.prepare('SELECT batch_id, delta FROM deltas WHERE run = ?'),
    updateRun: db.prepare('UPDATE runs SET state = coalesce(?, state), batches = ?, rows = ?, version = version + ? WHERE seq = ?'),
    foldRun: db.prepare('UPDATE runs SET state = ? WHERE seq = ?'),
    folded: db.prepare('DELETE FROM deltas WHERE run = ? AND batch_id = ?'),
    insertBatch: db.prepare(`INSERT INTO batches (run, batch_id, digest, rows, batches_after, rows_after, created)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    insertDelta: db.prepare('INSERT INTO deltas (run, batch_id, delta) VALUES (?, ?, ?)'),
    firstPage: db.prepare(`SELECT ${SUMMARY} FROM runs ORDER BY created DESC, id DESC LIMIT ?`),
    nextPage: db.prepare(`SELECT ${SUMMARY} FROM runs WHERE (created, id) < (?, ?) ORDER BY created DESC, id DESC LIMIT ?`),
    closeRun: db.prepare("UPDATE runs SET status = 'closed', closed = ?, version = version + 1 WHERE id = ? AND status = 'open'"),
    deleteRun: db.prepare('DELETE FROM runs WHERE id = ?'),
    purge: db.prepare("DELETE FROM runs WHERE status = 'closed' AND closed < ?")
  }
}
