/**
 * One autocannon run, in this process, with the CPU each party used while it ran. Latencies are
 * recorded from every response (autocannon's own histogram has 1 ms resolution).
 */
import autocannon, { type Request, type Result } from 'autocannon'
import { cpuSeconds, machineBusySeconds, type Server } from './servers.js'
import type { Scenario } from './scenarios.js'

export interface Measurement {
  /** 2xx responses per second. */
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly requests: number
  readonly errors: number
  readonly timeouts: number
  readonly non2xx: number
  readonly statusCodes: Record<string, number>
  readonly seconds: number
  /** Every response's latency in ms, sorted; left out of the JSON output. */
  readonly latencies: Float64Array
  /** Cores busy on average: the bench process (autocannon), the server's processes, everything else. */
  readonly cpu: { readonly client: number, readonly server: number, readonly other: number }
}

export interface LoadOptions {
  readonly duration: number
  /** Stop after this many requests instead of after `duration`. */
  readonly amount?: number
  readonly connections?: number
  /**
   * The client builds every request anew, as it must for a PUT, whose batch id is new each time.
   * A run scenario's baseline is measured so too: building a 64x400 request costs the client about
   * 0.5 ms, on the cores the service shares, and the ratio must compare the service, not that.
   */
  readonly rebuilt?: boolean
}

function percentile (sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}

/** A process-wide counter, so that `{batch}` never repeats across loads: each PUT adds a new batch. */
let batches = 0
const numbered = (path: string, rebuilt: boolean): Pick<Request, 'setupRequest'> => path.includes('{batch}')
  ? { setupRequest: (request) => ({ ...request, path: path.replace('{batch}', String(batches++)) }) }
  : rebuilt ? { setupRequest: (request) => request } : {}

export async function load (server: Server, scenario: Pick<Scenario, 'connections' | 'requests'>, options: LoadOptions): Promise<Measurement> {
  const latencies: number[] = []
  const pids = server.pids()
  const serverCpu0 = pids.reduce((s, pid) => s + cpuSeconds(pid), 0)
  const client0 = process.cpuUsage()
  const machine0 = machineBusySeconds()
  const t0 = process.hrtime.bigint()
  const result = await new Promise<Result>((resolve, reject) => {
    const instance = autocannon({
      url: server.origin,
      connections: options.connections ?? scenario.connections,
      duration: options.duration,
      ...(options.amount === undefined ? {} : { amount: options.amount }),
      timeout: 30,
      requests: scenario.requests.map((r) => ({ method: r.method, path: r.path, headers: r.headers, body: r.body, ...numbered(r.path, options.rebuilt === true) }))
    }, (err, res) => { err === null ? resolve(res) : reject(err) })
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => { latencies.push(ms) })
  })
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const clientUsage = process.cpuUsage(client0)
  const client = (clientUsage.user + clientUsage.system) / 1e6 / seconds
  const serverCores = (pids.reduce((s, pid) => s + cpuSeconds(pid), 0) - serverCpu0) / seconds
  const machine = (machineBusySeconds() - machine0) / seconds
  const sorted = Float64Array.from(latencies).sort()
  const statusCodes: Record<string, number> = {}
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = count
  return {
    rps: result['2xx'] / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
    seconds,
    latencies: sorted,
    cpu: { client, server: serverCores, other: Math.max(0, machine - client - serverCores) }
  }
}

/** Several runs against the same server as one: counts add up, latencies pool, CPU is time-weighted. */
export function combine (parts: readonly Measurement[]): Measurement {
  const seconds = parts.reduce((s, m) => s + m.seconds, 0)
  const sum = (f: (m: Measurement) => number): number => parts.reduce((s, m) => s + f(m), 0)
  const weighted = (f: (m: Measurement) => number): number => parts.reduce((s, m) => s + f(m) * m.seconds, 0) / seconds
  const latencies = new Float64Array(sum((m) => m.latencies.length))
  let offset = 0
  for (const m of parts) {
    latencies.set(m.latencies, offset)
    offset += m.latencies.length
  }
  latencies.sort()
  const statusCodes: Record<string, number> = {}
  for (const m of parts) for (const [code, n] of Object.entries(m.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n
  return {
    rps: weighted((m) => m.rps),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    requests: sum((m) => m.requests),
    errors: sum((m) => m.errors),
    timeouts: sum((m) => m.timeouts),
    non2xx: sum((m) => m.non2xx),
    statusCodes,
    seconds,
    latencies,
    cpu: { client: weighted((m) => m.cpu.client), server: weighted((m) => m.cpu.server), other: weighted((m) => m.cpu.other) }
  }
}
