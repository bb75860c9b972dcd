/**
 * `npm run bench`: the service against the floor (bench/floor.ts), side by side in one run, with
 * autocannon in this process. Per worker count: both servers start, every scenario runs on the
 * floor and then on the service with the same bodies, and the table shows rps, p50/p99, errors and
 * the ratio to the floor. Then a fresh single-worker service takes 100k requests to show whether
 * RSS and the tfjs tensor count stay flat. `--check` exits 1 when a target is missed.
 * `--profile SCENARIO` instead runs one scenario against a single worker under `node --cpu-prof`
 * and prints where its CPU time goes. See the README, "Benchmarks".
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { combine, load, type Measurement } from './load.js'
import { formatSummary, summarise, type CpuProfile } from './profile.js'
import { checkRows, checkMemory, formatCpu, formatMemory, formatRows, type MemoryPoint, type MemoryResult, type Row } from './report.js'
import { SCENARIO_IDS, scenarios, type Request, type Scenario } from './scenarios.js'
import { checkRunRows, formatRunRows, place, prepare, runPhase, withRun, type RunRow } from './runs.js'
import { remote, ROOT, rssMiB, settle, start, type Server, type ServerKind } from './servers.js'

const HELP = `usage: npm run bench -- [options]
  --duration S      measured seconds per scenario and server (default 10)
  --warmup S        unmeasured seconds before each measurement (default 3)
  --rounds N        split each measurement into N alternating floor/service rounds (default 5)
  --workers LIST    service worker counts to compare, e.g. 1,2 (default 1,<available parallelism>)
  --scenarios LIST  subset of: ${SCENARIO_IDS.join(', ')}; none for the memory phase only
  --memory A,B      memory phase: RSS and numTensors after A, 2A, ... B requests (default 10000,100000; off to skip)
  --check           exit 1 when a target is missed
  --quick           --duration 1 --warmup 0.5 --memory 1000,10000 (a smoke run, not a measurement)
  --source          run the service from src/ through tsx instead of dist/ (no build needed)
  --backend NAME    TFJS_BACKEND for the service (default: its own default, auto)
  --log-level L     LOG_LEVEL for the service (default: its own default, info)
  --json FILE       also write every figure as JSON
  --profile IDS     profile the last scenario listed on one worker with node --cpu-prof instead of
                    the table; scenarios listed before it run first, unprofiled
  --profile-server  service (default) or floor: which one --profile runs
  --keep-logs       keep the servers' logs (kept anyway when something failed)
  --target URL      drive a service already running at URL (e.g. http://loss:8080 under compose) instead of
                    starting one; the floor still runs here. No memory phase or profile (its processes are not ours)`

const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string' },
    workers: { type: 'string' },
    scenarios: { type: 'string' },
    memory: { type: 'string' },
    check: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    source: { type: 'boolean', default: false },
    backend: { type: 'string' },
    'log-level': { type: 'string' },
    json: { type: 'string' },
    profile: { type: 'string' },
    'profile-server': { type: 'string', default: 'service' },
    'keep-logs': { type: 'boolean', default: false },
    target: { type: 'string' },
    help: { type: 'boolean', default: false }
  }
})

if (values.help) {
  process.stdout.write(HELP + '\n')
  process.exit(0)
}

function numberList (name: string, text: string): number[] {
  const list = text.split(',').map((s) => Number(s.trim()))
  if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--${name} must be a comma-separated list of positive integers, got ${text}`)
  return list
}

function seconds (name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!(n > 0)) throw new Error(`--${name} must be a positive number of seconds, got ${text}`)
  return n
}

const quick = values.quick
const duration = seconds('duration', values.duration, quick ? 1 : 10)
const warmup = seconds('warmup', values.warmup, quick ? 0.5 : 3)
const rounds = values.rounds === undefined ? (quick ? 1 : 5) : numberList('rounds', values.rounds)[0] ?? 1
const cores = os.availableParallelism()
const workerCounts = values.workers === undefined ? [...new Set([1, cores])] : numberList('workers', values.workers)
const selected = values.scenarios === undefined
  ? SCENARIO_IDS
  : values.scenarios === 'none' ? [] : values.scenarios.split(',').map((s) => s.trim())
const memoryText = values.memory ?? (quick ? '1000,10000' : '10000,100000')
const memoryPlan = memoryText === 'off' || values.target !== undefined ? undefined : numberList('memory', memoryText)
if (memoryPlan !== undefined && (memoryPlan.length !== 2 || (memoryPlan[0] ?? 0) >= (memoryPlan[1] ?? 0))) {
  throw new Error(`--memory takes two increasing request counts, e.g. 10000,100000, or off; got ${memoryText}`)
}
const fromSource = values.source
const serviceEnv: Record<string, string> = {}
if (values.backend !== undefined) serviceEnv.TFJS_BACKEND = values.backend
if (values['log-level'] !== undefined) serviceEnv.LOG_LEVEL = values['log-level']

if (!fromSource && !existsSync(join(ROOT, 'dist/src/server.js'))) {
  process.stderr.write('dist/src/server.js is missing: `npm run bench` builds it first; or pass --source\n')
  process.exit(2)
}

const MEMORY_SCENARIOS = ['focal-64x10', 'ce-64x10', 'focal-sigmoid-64x80']
/** After the full GC a memory reading asks for (bench/gc-signal.cjs), before reading RSS again. */
const GC_WAIT_MS = 500

const logDir = mkdtempSync(join(os.tmpdir(), 'loss-bench-'))
let keepLogs = values['keep-logs']
const progress = (line: string): void => { process.stderr.write(line + '\n') }

async function startServer (kind: ServerKind, workers: number, nodeFlags: string[] = [], env: Record<string, string> = {}): Promise<Server> {
  if (kind === 'service' && values.target !== undefined) return remote(values.target)
  return await start({
    kind,
    workers,
    fromSource,
    logFile: join(logDir, `${kind}-w${workers}.log`),
    env: kind === 'service' ? { ...serviceEnv, ...env } : {},
    nodeFlags
  })
}

/**
 * One request with fetch: whether the route exists and answers 2xx, and what it said if not. A 503
 * (overload protection still tripped by the previous scenario) is retried after its Retry-After.
 */
async function probe (server: Server, request: Request): Promise<{ status: number, text: string }> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${server.origin}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: new Uint8Array(request.body)
    })
    const text = (await res.text()).slice(0, 300)
    if (res.status !== 503 || attempt === 3) return { status: res.status, text }
    await new Promise((resolve) => setTimeout(resolve, 1000 * Number(res.headers.get('retry-after') ?? 1) + 100))
  }
}

/**
 * The floor and the service on one scenario: each warmed up, then measured in alternating rounds so
 * that both see the same background load on a shared machine. Which one goes first alternates too
 * (floor-service, service-floor, ...), so a machine that speeds up or slows down during the
 * measurement favours neither.
 */
async function measurePair (floor: Server, service: Server, scenario: Scenario): Promise<{ floor: Measurement, service: Measurement }> {
  progress(`  w${service.workers} ${scenario.id}: warmup ${warmup}s each, then ${rounds} x ${(duration / rounds).toFixed(2)}s floor/service rounds`)
  await load(floor, scenario, { duration: warmup })
  await settle(floor)
  await load(service, scenario, { duration: warmup })
  const f: Measurement[] = []
  const s: Measurement[] = []
  await settle(service)
  const round = async (server: Server, into: Measurement[]): Promise<void> => {
    into.push(await load(server, scenario, { duration: duration / rounds }))
    await settle(server)
  }
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      await round(floor, f)
      await round(service, s)
    } else {
      await round(service, s)
      await round(floor, f)
    }
  }
  return { floor: combine(f), service: combine(s) }
}

function meta (backend: string | undefined): Record<string, unknown> {
  const version = (pkg: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['describe', '--always', '--dirty'], { cwd: ROOT, encoding: 'utf8' }).trim()
  } catch {}
  return {
    date: new Date().toISOString(),
    commit,
    node: process.version,
    fastify: version('fastify'),
    autocannon: version('autocannon'),
    cpus: `${cores} x ${os.cpus()[0]?.model ?? '?'}`,
    backend: backend ?? 'unknown',
    service: fromSource ? 'src/server.ts via tsx' : 'dist/src/server.js',
    duration,
    warmup,
    rounds
  }
}

async function backendOf (server: Server): Promise<string | undefined> {
  try {
    const info = await (await fetch(`${server.origin}/info`)).json() as { backend?: string }
    return info.backend
  } catch {
    return undefined
  }
}

async function table (list: readonly Scenario[]): Promise<{ rows: Row[], backend: string | undefined }> {
  const rows: Row[] = []
  let backend: string | undefined
  if (list.length === 0) return { rows, backend }
  for (const workers of workerCounts) {
    progress(`workers=${workers}: starting the floor and the service`)
    const [floor, service] = await Promise.all([startServer('floor', workers), startServer('service', workers)])
    backend ??= await backendOf(service)
    try {
      for (const scenario of list) {
        const first = scenario.requests[0]
        if (first === undefined) continue
        const row: Row = { workers, scenario, bodyBytes: first.body.length }
        rows.push(row)
        const answer = await probe(service, first)
        if (scenario.v2 && answer.status === 404) {
          row.skipped = `POST ${first.path} answers 404: the V2 route is not there yet`
          progress(`  skipped ${scenario.id}: ${row.skipped}`)
          continue
        }
        if (answer.status < 200 || answer.status > 299) {
          row.note = `service answered ${answer.status}: ${answer.text}`
          progress(`  ${scenario.id}: ${row.note}`)
        }
        Object.assign(row, await measurePair(floor, service, scenario))
      }
    } finally {
      await Promise.all([floor.stop(), service.stop()])
    }
  }
  return { rows, backend }
}

/** Reads the tfjs tensor gauge (and heap) from /metrics when the service has one. */
async function metrics (server: Server): Promise<{ numTensors?: number, metric?: string, heapMiB?: number }> {
  let text: string
  try {
    const res = await fetch(`${server.origin}/metrics`)
    if (res.status !== 200) return {}
    text = await res.text()
  } catch {
    return {}
  }
  const out: { numTensors?: number, metric?: string, heapMiB?: number } = {}
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (m === null || m[1] === undefined) continue
    if (out.numTensors === undefined && /tensors/i.test(m[1]) && !/bytes/i.test(m[1])) {
      out.numTensors = Number(m[3])
      out.metric = m[1]
    }
    if (m[1] === 'nodejs_heap_size_used_bytes') out.heapMiB = Number(m[3]) / 2 ** 20
  }
  return out
}

async function memory ([first, total]: readonly number[]): Promise<MemoryResult | undefined> {
  // The small JSON scenarios interleaved: the big ones would take an hour to reach 100k.
  const small = scenarios(MEMORY_SCENARIOS)
  if (first === undefined || total === undefined) return undefined
  const requests: Request[] = []
  const longest = Math.max(...small.map((s) => s.requests.length))
  for (let k = 0; k < longest; k++) {
    for (const s of small) {
      const r = s.requests[k]
      if (r !== undefined) requests.push(r)
    }
  }
  // Readings every `first` requests when that makes at most 20, to tell a trend from GC noise.
  const steps = total % first === 0 && total / first <= 20 ? Array.from({ length: total / first }, (_, i) => (i + 1) * first) : [first, total]
  progress(`memory: a fresh service, WORKERS=1; readings after ${steps.join(', ')} requests of ${small.map((s) => s.id).join(', ')}`)
  const service = await startServer('service', 1, ['--expose-gc', '--require', join(ROOT, 'bench', 'gc-signal.cjs')])
  try {
    const mix = { connections: 16, requests }
    const points: MemoryPoint[] = []
    let done = 0
    let errors = 0
    let seconds = 0
    for (const step of steps) {
      const m = await load(service, mix, { duration: 3600, amount: step - done })
      done = step
      errors += m.errors + m.timeouts + m.non2xx
      seconds += m.seconds
      await settle(service)
      const raw = rssMiB(service.pid)
      process.kill(service.pid, 'SIGUSR2')
      await sleep(GC_WAIT_MS)
      points.push({ requests: step, rssMiB: raw, rssAfterGcMiB: rssMiB(service.pid), ...await metrics(service) })
    }
    return { scenarios: small.map((s) => s.id), points, errors, rps: total / seconds }
  } finally {
    await service.stop()
  }
}

/**
 * Profiles the last of `ids`; the ones before it run first, unprofiled, to bring the server into the
 * state a scenario meets in the full run (`--profile focal-64x10,focal-1024x400`).
 */
async function profile (ids: string, kind: string): Promise<void> {
  const list = ids.split(',').map((s) => s.trim())
  const before = scenarios(list.slice(0, -1))
  const [scenario] = scenarios(list.slice(-1))
  if (scenario === undefined) return
  if (kind !== 'service' && kind !== 'floor') throw new Error(`--profile-server must be service or floor, got ${kind}`)
  const dir = join(logDir, 'cpu-prof')
  keepLogs = true
  const store = scenario.run === undefined ? undefined : await place(scenario.run.store)
  if (typeof store === 'string') throw new Error(`cannot profile ${scenario.id}: ${store}`)
  const started = process.hrtime.bigint()
  const service = await startServer(kind, 1, ['--cpu-prof', `--cpu-prof-dir=${dir}`], store?.env)
  let skipMs = 0
  let m: Measurement
  try {
    for (const s of before) {
      progress(`running ${s.id} first, unprofiled: ${warmup + duration}s`)
      await load(service, s, { duration: warmup + duration })
      await settle(service)
    }
    // A run scenario's run is created (and prefilled) before the profiled span, like the scenarios before it.
    const profiled = scenario.run === undefined ? scenario : withRun(scenario, await prepare(service, scenario))
    skipMs = Number(process.hrtime.bigint() - started) / 1e6
    progress(`profiling ${scenario.id}: warmup ${warmup}s, measure ${duration}s`)
    await load(service, profiled, { duration: warmup })
    m = await load(service, profiled, { duration })
  } finally {
    await service.stop()
    await store?.drop()
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error(`no .cpuprofile was written in ${dir}`)
  const summary = summarise(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, { skipMs })
  process.stdout.write(`profile of ${scenario.title}, ${kind} WORKERS=1, ${scenario.connections} connections` +
    (before.length > 0 ? ` (after ${before.map((s) => s.id).join(', ')}, not profiled)` : '') + ', ' +
    `warmup ${warmup}s + ${duration}s measured (start-up excluded): ${m.rps.toFixed(0)} rps, p50 ${m.p50.toFixed(2)} ms, ` +
    `non-2xx ${m.non2xx}, errors ${m.errors}\n` +
    `cores busy: client ${m.cpu.client.toFixed(2)}, ${kind} ${m.cpu.server.toFixed(2)}, other ${m.cpu.other.toFixed(2)}\n\n` +
    formatSummary(summary) + `\n\nprofile: ${join(dir, file)} (open in Chrome DevTools or speedscope)\n`)
}

const strip = (m: Measurement | undefined): Omit<Measurement, 'latencies'> | undefined => {
  if (m === undefined) return undefined
  const { latencies: _, ...rest } = m
  return rest
}

async function main (): Promise<number> {
  if (values.profile !== undefined) {
    if (values.target !== undefined) throw new Error('--profile needs a service started by the bench, not --target')
    await profile(values.profile, values['profile-server'])
    return 0
  }
  const all = scenarios(selected)
  // Run scenarios need a service on their store and compare with the service itself, not the floor.
  const list = all.filter((s) => s.run === undefined)
  progress(`bench: ${all.length} scenarios, workers ${workerCounts.join(' and ')}, ${warmup}s warmup + ${duration}s each; logs in ${logDir}`)
  const { rows, backend } = await table(list)
  const runRows: RunRow[] = values.target !== undefined
    ? all.filter((s) => s.run !== undefined).map((scenario) => ({ workers: 0, scenario, skipped: 'needs a service started on its store, not --target' }))
    : await runPhase(all.filter((s) => s.run !== undefined), {
      workerCounts,
      warmup,
      duration,
      rounds,
      progress,
      startService: async (workers, env, name) => await start({ kind: 'service', workers, fromSource, logFile: join(logDir, `${name}-w${workers}.log`), env: { ...serviceEnv, ...env } })
    })
  const mem = memoryPlan === undefined ? undefined : await memory(memoryPlan)
  const info = meta(backend)
  const out: string[] = [
    `bench ${String(info.date)}  commit ${String(info.commit)}  node ${process.version}  fastify ${String(info.fastify)}  autocannon ${String(info.autocannon)}`,
    `machine: ${String(info.cpus)}; service: ${String(info.service)}, tfjs backend ${String(info.backend)}; ${warmup}s warmup + ${duration}s measured per cell in ${rounds} alternating rounds`,
    'floor: bench/floor.ts with the same worker count as the service; ratio = service rps / floor rps',
    ''
  ]
  if (rows.length > 0) out.push(formatRows(rows, workerCounts), '', formatCpu(rows, cores), '')
  if (runRows.length > 0) out.push(formatRunRows(runRows), '')
  if (mem !== undefined) out.push(formatMemory(mem), '')
  const verdict = [...checkRows(rows), ...checkRunRows(runRows), ...(mem === undefined ? [] : checkMemory(mem))]
  const failed = verdict.filter((v) => v.status === 'FAIL')
  const unchecked = verdict.filter((v) => v.status === 'SKIP')
  out.push(`targets: ${verdict.length - failed.length - unchecked.length} met, ${failed.length} missed, ${unchecked.length} not checked`)
  for (const v of [...failed, ...unchecked]) out.push(`  ${v.status} ${v.what}: ${v.detail}`)
  process.stdout.write(out.join('\n') + '\n')
  if (values.json !== undefined) {
    const plain = rows.map(({ scenario, floor, service, ...r }) =>
      ({ ...r, scenario: scenario.id, title: scenario.title, connections: scenario.connections, floor: strip(floor), service: strip(service) }))
    const runs = runRows.map(({ scenario, base, measured, ...r }) => ({ ...r, scenario: scenario.id, base: strip(base), measured: strip(measured) }))
    writeFileSync(values.json, JSON.stringify({ meta: info, rows: plain, runs, memory: mem, verdict }, null, 2))
  }
  const troubled = failed.length > 0 || rows.some((r) => r.note !== undefined)
  if (troubled) keepLogs = true
  return values.check && failed.length > 0 ? 1 : 0
}

main().then((code) => {
  if (keepLogs) progress(`server logs kept in ${logDir}`)
  else rmSync(logDir, { recursive: true, force: true })
  process.exit(code)
}, (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\nserver logs in ${logDir}\n`)
  process.exit(2)
})
