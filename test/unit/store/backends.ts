/**
 * The two backends the store suite runs on, each able to make a fresh empty store location, to run
 * writers concurrently the way production does (SQLite: processes on one file; PostgreSQL: separate
 * pools, as replicas), and to look at the tables directly.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import Database from 'better-sqlite3'
import pg from 'pg'
import { openStore } from '../../../src/store/index.js'
import { delta, digestOf, merge, rowsOf } from './counter.js'

export interface StoreConfig { DATA_DIR: string, DATABASE_URL?: string }
export interface Job { runId?: string, ids?: string[], from?: number, migrate?: boolean }
export interface Put { id: string, kind: string, progress?: { batches: number, rows: number }, t: number }

export interface Backend {
  name: 'sqlite' | 'postgres'
  /** Why the suite cannot run here; undefined when it can. */
  skip: string | undefined
  /** An empty location; drop() removes it. */
  fresh (): Promise<{ config: StoreConfig, drop (): Promise<void> }>
  /** Runs every job at once, each with its own client, and returns each job's puts in order. */
  concurrently (config: StoreConfig, jobs: Job[]): Promise<Put[][]>
  /** The batch records stored for a run, counted in the table itself. */
  batchRecords (config: StoreConfig, runId: string): Promise<number>
  migrations (config: StoreConfig): Promise<number[]>
}

const WORKER = new URL('./worker.ts', import.meta.url).pathname

/** Starts worker.ts with a job; `output` lists its lines so far. */
export function startWorker (config: StoreConfig, job: Job & { wait?: boolean }): { child: ChildProcess, output: Put[], exited: Promise<number | null>, ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify({ config, ...job })], { stdio: ['pipe', 'pipe', 'pipe'] })
  const output: Put[] = []
  let partial = ''
  let stderr = ''
  let onReady = () => {}
  const ready = new Promise<void>((resolve) => { onReady = resolve })
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      const parsed = JSON.parse(line) as Put & { ready?: boolean }
      if (parsed.ready === true) onReady()
      else output.push(parsed)
    }
  })
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`worker exited ${code}: ${stderr}`))
      else resolve(code)
    })
  })
  return { child, output, exited, ready }
}

/** Runs jobs in worker processes that start putting at the same moment. */
async function inProcesses (config: StoreConfig, jobs: Job[]): Promise<Put[][]> {
  const workers = jobs.map((job) => startWorker(config, job))
  await Promise.race([Promise.all(workers.map((w) => w.ready)), Promise.all(workers.map((w) => w.exited))])
  for (const w of workers) w.child.stdin?.end('go\n')
  await Promise.all(workers.map((w) => w.exited))
  return workers.map((w) => w.output)
}

export const sqlite: Backend = {
  name: 'sqlite',
  skip: undefined,
  fresh: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loss-store-'))
    return { config: { DATA_DIR: join(dir, 'data') }, drop: async () => rmSync(dir, { recursive: true, force: true }) }
  },
  concurrently: inProcesses,
  batchRecords: async (config, runId) => withSqlite(config, (db) =>
    db.prepare('SELECT count(*) FROM batches JOIN runs ON runs.seq = batches.run WHERE runs.id = ?').pluck().get(runId) as number),
  migrations: async (config) => withSqlite(config, (db) =>
    db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[])
}

function withSqlite<T> (config: StoreConfig, fn: (db: Database.Database) => T): T {
  const db = new Database(join(config.DATA_DIR, 'runs.sqlite'), { readonly: true })
  try {
    return fn(db)
  } finally {
    db.close()
  }
}

/** The server the PostgreSQL suite uses: trust auth on this machine and in CI. */
export const PG_URL = process.env.PG_TEST_URL ?? 'postgres://root@127.0.0.1:5432/test'

async function withPg<T> (url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** A connection string whose sessions work in `schema` only. */
export function inSchema (url: string, schema: string): string {
  const u = new URL(url)
  u.searchParams.set('options', `-c search_path=${schema}`)
  return u.toString()
}

async function probe (): Promise<string | undefined> {
  try {
    await withPg(PG_URL, (c) => c.query('SELECT 1'))
    return undefined
  } catch (err) {
    return `PostgreSQL at ${PG_URL} is unreachable: ${(err as Error).message}`
  }
}

export const postgres: Backend = {
  name: 'postgres',
  skip: await probe(),
  fresh: async () => {
    const schema = `loss_test_${randomBytes(6).toString('hex')}`
    await withPg(PG_URL, (c) => c.query(`CREATE SCHEMA ${schema}`))
    return {
      config: { DATA_DIR: '/nonexistent', DATABASE_URL: inSchema(PG_URL, schema) },
      drop: () => withPg(PG_URL, (c) => c.query(`DROP SCHEMA ${schema} CASCADE`)).then(() => {})
    }
  },
  concurrently: (config, jobs) => Promise.all(jobs.map(async (job) => {
    const store = await openStore(config)
    try {
      if (job.migrate === true) await store.migrate()
      const puts: Put[] = []
      for (const id of job.ids ?? []) {
        const outcome = await store.putBatch(job.runId ?? '', id, digestOf(id), rowsOf(id), delta(rowsOf(id)), merge)
        puts.push({ id, kind: outcome.kind, progress: 'progress' in outcome ? outcome.progress : undefined, t: performance.timeOrigin + performance.now() })
      }
      return puts
    } finally {
      await store.close()
    }
  })),
  batchRecords: (config, runId) => withPg(config.DATABASE_URL ?? '', async (c) =>
    (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM batches JOIN runs ON runs.seq = batches.run WHERE runs.id = $1', [runId])).rows[0]?.n ?? -1),
  migrations: (config) => withPg(config.DATABASE_URL ?? '', async (c) =>
    (await c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version))
}
