/**
 * The runs phase of `npm run bench`: each run scenario against a service on its store (SQLite in a
 * temporary DATA_DIR, or PostgreSQL in a schema of its own under PG_BENCH_URL), measured in
 * alternating rounds with the scenario its target names, on the same service and with the same
 * connections, so that both see the same machine. The target is the ratio of the two: rps for a PUT
 * into a run against POST /loss/compare of the same bodies, p50 latency for GET /runs/{id}.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { combine, load, type Measurement } from './load.js'
import { align, type Verdict } from './report.js'
import { scenarios, type Scenario } from './scenarios.js'
import { settle, type Server } from './servers.js'

export interface RunRow {
  readonly workers: number
  readonly scenario: Scenario
  base?: Measurement
  measured?: Measurement
  skipped?: string
}

export interface RunPhase {
  readonly workerCounts: readonly number[]
  readonly warmup: number
  readonly duration: number
  readonly rounds: number
  startService (workers: number, env: Record<string, string>, name: string): Promise<Server>
  progress (line: string): void
}

const PG_URL = process.env.PG_BENCH_URL ?? 'postgres://root@127.0.0.1:5432/test'

/** A store location for the service, and how to remove it; a reason instead when there is none. */
export async function place (store: 'sqlite' | 'postgres'): Promise<{ env: Record<string, string>, drop: () => Promise<void> } | string> {
  if (store === 'sqlite') {
    const dir = mkdtempSync(join(os.tmpdir(), 'loss-bench-runs-'))
    return { env: { DATA_DIR: dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  const schema = `loss_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 })
  try {
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
  } catch (err) {
    await admin.end().catch(() => {})
    return `PostgreSQL at ${PG_URL} (PG_BENCH_URL): ${(err as Error).message}`
  }
  const url = new URL(PG_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return {
    env: { DATABASE_URL: url.toString() },
    drop: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`)
      await admin.end()
    }
  }
}

/** Creates the scenario's run and PUTs its prefill batches of one row each, 8 at a time. */
export async function prepare (server: Server, scenario: Scenario): Promise<string> {
  const setup = scenario.run
  if (setup === undefined) throw new Error(`${scenario.id} is not a run scenario`)
  const created = await fetch(`${server.origin}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ classes: setup.classes, hardest: setup.hardest, name: scenario.id })
  })
  if (created.status !== 201) throw new Error(`POST /runs answered ${created.status}: ${await created.text()}`)
  const { id } = await created.json() as { id: string }
  let next = 0
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let i = next++; i < setup.prefill; i = next++) {
      const logits = [Array.from({ length: setup.classes }, (_, c) => Math.sin(i * 31 + c))]
      const res = await fetch(`${server.origin}/runs/${id}/batches/prefill-${i}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ logits, labels: [i % setup.classes] })
      })
      if (res.status !== 200) throw new Error(`prefill batch ${i} answered ${res.status}: ${await res.text()}`)
    }
  }))
  return id
}

export const withRun = (scenario: Scenario, id: string): Scenario =>
  ({ ...scenario, requests: scenario.requests.map((r) => ({ ...r, path: r.path.replace('{run}', id) })) })

async function measure (server: Server, phase: RunPhase, a: Scenario, b: Scenario): Promise<[Measurement, Measurement]> {
  const connections = b.connections
  await load(server, a, { duration: phase.warmup, connections, rebuilt: true })
  await load(server, b, { duration: phase.warmup, connections, rebuilt: true })
  const ma: Measurement[] = []
  const mb: Measurement[] = []
  const round = async (s: Scenario, into: Measurement[]): Promise<void> => {
    into.push(await load(server, s, { duration: phase.duration / phase.rounds, connections, rebuilt: true }))
    await settle(server)
  }
  for (let r = 0; r < phase.rounds; r++) {
    if (r % 2 === 0) await round(a, ma).then(async () => await round(b, mb))
    else await round(b, mb).then(async () => await round(a, ma))
  }
  return [combine(ma), combine(mb)]
}

export async function runPhase (list: readonly Scenario[], phase: RunPhase): Promise<RunRow[]> {
  const rows: RunRow[] = []
  for (const workers of phase.workerCounts) {
    for (const store of ['sqlite', 'postgres'] as const) {
      const mine = list.filter((s) => s.run?.store === store)
      if (mine.length === 0) continue
      const where = await place(store)
      if (typeof where === 'string') {
        for (const scenario of mine) rows.push({ workers, scenario, skipped: where })
        phase.progress(`  skipped the ${store} run scenarios: ${where}`)
        continue
      }
      phase.progress(`workers=${workers}: a service on ${store} for the run scenarios`)
      const server = await phase.startService(workers, where.env, `runs-${store}`)
      try {
        for (const scenario of mine) {
          const row: RunRow = { workers, scenario }
          rows.push(row)
          const target = scenario.target
          const [base] = target?.kind === 'service' || target?.kind === 'latency' ? scenarios([target.of]) : []
          if (base === undefined) {
            row.skipped = 'its target names no scenario to compare with'
            continue
          }
          const started = Date.now()
          const id = await prepare(server, scenario)
          phase.progress(`  w${workers} ${scenario.id}: run ready in ${((Date.now() - started) / 1000).toFixed(1)} s; against ${base.id}, ${phase.rounds} alternating rounds`)
          const [b, m] = await measure(server, phase, base, withRun(scenario, id))
          row.base = b
          row.measured = m
        }
      } finally {
        await server.stop()
        await where.drop()
      }
    }
  }
  return rows
}

const figure = (m: Measurement | undefined, latency: boolean): string =>
  m === undefined ? '-' : latency ? `p50 ${m.p50.toFixed(2)} ms` : `${m.rps.toFixed(0)} rps`

function ratioOf (row: RunRow): number | undefined {
  const { base, measured } = row
  if (base === undefined || measured === undefined) return undefined
  return row.scenario.target?.kind === 'latency' ? measured.p50 / base.p50 : measured.rps / base.rps
}

export function formatRunRows (rows: readonly RunRow[]): string {
  const table = [['run scenario', 'workers', 'measured', 'compared with', 'ratio', 'target', 'non-2xx']]
  for (const row of rows) {
    const target = row.scenario.target
    const latency = target?.kind === 'latency'
    const r = ratioOf(row)
    table.push([
      row.scenario.id,
      String(row.workers),
      row.skipped ?? figure(row.measured, latency),
      target !== undefined && 'of' in target ? `${target.of} ${figure(row.base, latency)}` : '-',
      r === undefined ? '-' : r.toFixed(2),
      target === undefined ? '-' : `${latency ? '<=' : '>='} ${target.ratio}`,
      row.measured === undefined ? '-' : String(row.measured.non2xx + row.measured.errors + row.measured.timeouts)
    ])
  }
  return align(table)
}

export function checkRunRows (rows: readonly RunRow[]): Verdict[] {
  return rows.map((row): Verdict => {
    const what = `${row.scenario.id} workers=${row.workers}`
    const r = ratioOf(row)
    const target = row.scenario.target
    if (r === undefined || target === undefined || row.measured === undefined) return { what, status: 'SKIP', detail: row.skipped ?? 'not measured' }
    const failures = row.measured.errors + row.measured.timeouts + row.measured.non2xx
    const met = target.kind === 'latency' ? r <= target.ratio : r >= target.ratio
    if (failures > 0) return { what, status: 'FAIL', detail: `${failures} errors or non-2xx ${JSON.stringify(row.measured.statusCodes)}` }
    return { what, status: met ? 'PASS' : 'FAIL', detail: `ratio ${r.toFixed(2)}, target ${target.kind === 'latency' ? '<=' : '>='} ${target.ratio}` }
  })
}
