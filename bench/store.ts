/**
 * `npm run bench:store`: what the runs store costs, without HTTP, on SQLite and PostgreSQL.
 *
 * - throughput: `--writers` processes (as WORKERS or replicas would be) put `--batches` batches each
 *   into one run at once, each with a `--state`-byte delta that the store folds into the run's
 *   state of that size (float64 adds, as a real merge would); batches/s over the whole, and the
 *   latency of one putBatch.
 * - size: one run receives `--size-batches` batches (ids like `rank3-step117`, 64-hex digests), and
 *   `--runs` runs are created, each with the statistics a run of `--classes` classes keeping the
 *   `--hardest` hardest rows stores (src/dataplane/runs/state.ts, filled with random doubles so that
 *   nothing compresses better than real sums would); bytes per batch record and per run from the
 *   database's own accounting (SQLite dbstat, PostgreSQL pg_total_relation_size).
 *
 * PostgreSQL: `PG_BENCH_URL` (default postgres://root@127.0.0.1:5432/test), in a schema of its own
 * that is dropped afterwards.
 */
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import pg from 'pg'
import { openStore } from '../src/store/index.js'
import type { Merge, RunStore } from '../src/store/index.js'
import { emptyState, encodeState } from '../src/dataplane/runs/state.js'
import { calibrationStats, type MulticlassStats } from '../src/evaluation/types.js'

interface Place { DATA_DIR: string, DATABASE_URL?: string }

const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: 'sqlite,postgres' },
    writers: { type: 'string', default: '8' },
    batches: { type: 'string', default: '100' },
    state: { type: 'string', default: '16384' },
    'size-batches': { type: 'string', default: '10000' },
    runs: { type: 'string', default: '1000' },
    classes: { type: 'string', default: '400' },
    hardest: { type: 'string', default: '10' },
    metrics: { type: 'boolean', default: false },
    child: { type: 'string' }
  }
})

const digest = (id: string) => createHash('sha256').update(id).digest('hex')
const f64 = (bytes: Uint8Array) => new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
const merge: Merge = (state, deltas) => {
  const next = f64(state)
  for (const delta of deltas) {
    const add = f64(delta)
    for (let i = 0; i < next.length; i++) next[i] = (next[i] as number) + (add[i] as number)
  }
  return new Uint8Array(next.buffer)
}

if (values.child !== undefined) {
  const job = JSON.parse(values.child) as { place: Place, runId: string, writer: number, batches: number }
  const store = await openStore(job.place)
  process.stdout.write('ready\n')
  await once(process.stdin, 'data')
  process.stdin.destroy()
  const latencies: number[] = []
  const delta = new Uint8Array(new Float64Array(Number(values.state) / 8).fill(1).buffer)
  const start = performance.timeOrigin + performance.now()
  for (let i = 0; i < job.batches; i++) {
    const id = `rank${job.writer}-step${i}`
    const t = performance.now()
    const outcome = await store.putBatch(job.runId, id, digest(id), 64, delta, merge)
    if (outcome.kind !== 'added') throw new Error(`${id}: ${outcome.kind}`)
    latencies.push(performance.now() - t)
  }
  const end = performance.timeOrigin + performance.now()
  await store.close()
  process.stdout.write(JSON.stringify({ start, end, latencies }) + '\n')
  process.exit(0)
}

async function throughput (place: Place, store: RunStore): Promise<string> {
  const writers = Number(values.writers)
  const batches = Number(values.batches)
  const run = await store.createRun({ metadata: {}, options: {}, classes: 400, state: new Uint8Array(Number(values.state)) }, 1_000_000)
  const children = Array.from({ length: writers }, (_, writer) => {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', JSON.stringify({ place, runId: run.id, writer, batches })],
      { stdio: ['pipe', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
    const ready = new Promise<void>((resolve) => child.stdout.on('data', () => { if (out.startsWith('ready\n')) resolve() }))
    const done = once(child, 'close').then(() => JSON.parse(out.slice('ready\n'.length)) as { start: number, end: number, latencies: number[] })
    return { child, ready, done }
  })
  await Promise.all(children.map((c) => c.ready))
  for (const c of children) c.child.stdin.end('go\n')
  const results = await Promise.all(children.map((c) => c.done))
  const seconds = (Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start))) / 1000
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b)
  const q = (p: number) => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] as number).toFixed(2)
  const after = await store.getRun(run.id)
  if (after?.batches !== writers * batches) throw new Error(`expected ${writers * batches} batches, found ${after?.batches}`)
  return `${writers} writers x ${batches} batches, ${values.state}-byte state: ${(writers * batches / seconds).toFixed(0)} batches/s; ` +
    `putBatch ms p50 ${q(0.5)} p99 ${q(0.99)} max ${q(1)}`
}

/** With --metrics, a run's softmax metric statistics (top-1 and top-5, 15 bins, no confusion matrix) after many batches. */
function metricStats (classes: number, u: () => number): MulticlassStats {
  const counts = (): Float64Array => Float64Array.from({ length: classes }, () => Math.floor(u()))
  const calibration = calibrationStats(15)
  calibration.count.forEach((_, b) => { calibration.count[b] = Math.floor(u() * 100); calibration.confidence[b] = u(); calibration.accuracy[b] = Math.floor(u()) })
  return { kind: 'multiclass', classes, rows: 20_000, topk: [1, 5], hits: Float64Array.of(15_000, 18_000), target: counts(), predicted: counts(), correct: counts(), calibration, brier: u(), confusion: undefined }
}

/** A run's statistics after many batches: every per-class double set, k hardest rows per loss. */
function realState (): Uint8Array {
  const classes = Number(values.classes)
  const state = emptyState(classes, ['ce', 'focal'])
  const u = (): number => Math.random() * 1000
  state.classCounts.forEach((_, c) => { state.classCounts[c] = Math.floor(u()) })
  for (const [name, totals] of Object.entries(state.losses)) {
    totals.sum = u()
    totals.normalizer = Math.floor(u())
    totals.classSums.forEach((_, c) => { totals.classSums[c] = u() })
    state.hardest[name] = Array.from({ length: Number(values.hardest) }, (_, i) => ({ batch: `rank${i % 8}-step${100 + i}`, index: i * 7, label: i % classes, loss: u() }))
  }
  if (values.metrics) state.metrics = metricStats(classes, u)
  return encodeState(state)
}

async function size (store: RunStore, bytesOf: (table: 'runs' | 'batches') => Promise<number>): Promise<string> {
  const n = Number(values['size-batches'])
  const runs = Number(values.runs)
  const run = await store.createRun({ metadata: {}, options: {}, classes: 400, state: new Uint8Array(16) }, 1_000_000)
  const before = await bytesOf('batches')
  for (let i = 0; i < n; i++) {
    const id = `rank${i % 8}-step${Math.floor(i / 8)}`
    await store.putBatch(run.id, id, digest(id), 64, new Uint8Array(16), (state) => state)
  }
  const perBatch = (await bytesOf('batches') - before) / n
  const runsBefore = await bytesOf('runs')
  for (let i = 0; i < runs; i++) {
    await store.createRun({ name: `checkpoint-${i}`, metadata: { model: 'resnet50', epoch: i }, options: { gamma: 2, alpha: 0.25, hardest: Number(values.hardest) }, classes: Number(values.classes), state: realState() }, 1_000_000)
  }
  const state = realState()
  const perRun = (await bytesOf('runs') - runsBefore) / runs
  return `${perBatch.toFixed(0)} bytes per batch record (${n} batches), ${perRun.toFixed(0)} bytes per run ` +
    `(${runs} runs, C=${values.classes}, hardest ${values.hardest}${values.metrics ? ', metrics' : ''}: ${state.byteLength}-byte state)`
}

for (const backend of values.backends.split(',')) {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'bench-store-'))
    const place = { DATA_DIR: dir }
    const store = await openStore(place)
    await store.migrate()
    const db = new Database(join(dir, 'runs.sqlite'), { readonly: true })
    const bytesOf = async (table: string) => db.prepare('SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name = ?)')
      .pluck().get(table) as number
    try {
      console.log(`sqlite   ${await throughput(place, store)}`)
      console.log(`sqlite   ${await size(store, bytesOf)}`)
    } finally {
      db.close()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  } else if (backend === 'postgres') {
    const base = process.env.PG_BENCH_URL ?? 'postgres://root@127.0.0.1:5432/test'
    const schema = `loss_bench_${randomBytes(4).toString('hex')}`
    const admin = new pg.Client(base)
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    const url = new URL(base)
    url.searchParams.set('options', `-c search_path=${schema}`)
    const place = { DATA_DIR: '', DATABASE_URL: url.toString() }
    const store = await openStore(place)
    try {
      await store.migrate()
      const bytesOf = async (table: string) =>
        Number((await admin.query<{ n: string }>('SELECT pg_total_relation_size($1) AS n', [`${schema}.${table}`])).rows[0]?.n)
      console.log(`postgres ${await throughput(place, store)}`)
      console.log(`postgres ${await size(store, bytesOf)}`)
    } finally {
      await store.close()
      await admin.query(`DROP SCHEMA ${schema} CASCADE`)
      await admin.end()
    }
  }
}
