/**
 * The servers under load, each a child process: the built service (or its sources through tsx) and
 * the floor. Also what the bench reads about them from outside: readiness, CPU time, RSS.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { openSync, closeSync, readFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../scripts/lib/net.js'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

export type ServerKind = 'service' | 'floor'

export interface ServerOptions {
  readonly kind: ServerKind
  readonly workers: number
  /** Run src/server.ts through tsx instead of the built dist/src/server.js. */
  readonly fromSource: boolean
  readonly logFile: string
  readonly env?: Record<string, string>
  readonly nodeFlags?: readonly string[]
}

export interface Server {
  readonly kind: ServerKind
  readonly workers: number
  readonly port: number
  /** Where requests go: http://127.0.0.1:<port>, or a --target service's URL. */
  readonly origin: string
  readonly pid: number
  /** The primary and, in cluster mode, its workers. */
  pids (): number[]
  stop (): Promise<void>
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** A port the kernel just handed out and took back; another process could take it first, rarely. */
function entry (kind: ServerKind, fromSource: boolean): string[] {
  if (kind === 'floor') return ['--import', 'tsx', join(ROOT, 'bench/floor.ts')]
  return fromSource ? ['--import', 'tsx', join(ROOT, 'src/server.ts')] : [join(ROOT, 'dist/src/server.js')]
}

/** One GET on a fresh connection, so that in cluster mode successive probes reach different workers. */
function probe (port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(0))
    req.setTimeout(2000, () => { req.destroy() })
  })
}

export async function start (options: ServerOptions): Promise<Server> {
  const port = await freePort()
  const out = openSync(options.logFile, 'a')
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...entry(options.kind, options.fromSource)], {
    cwd: ROOT,
    env: { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: String(options.workers) },
    stdio: ['ignore', out, 'pipe']
  })
  closeSync(out)
  running.add(child)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  const exited = new Promise<void>((resolve) => child.once('exit', () => { running.delete(child); resolve() }))
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start the ${options.kind}`)

  // Ready when every worker answers: several consecutive 200s over fresh connections.
  const deadline = Date.now() + 120_000
  let streak = 0
  while (streak < 3 * options.workers) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the ${options.kind} exited during start-up (${child.exitCode ?? child.signalCode}):\n${stderr}`)
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the ${options.kind} was not ready within 120 s:\n${stderr}`)
    }
    if (await probe(port, '/health/ready') === 200) streak++
    else {
      streak = 0
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  let pids = [pid]
  if (options.workers > 1) {
    try {
      pids = [pid, ...execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number)]
    } catch {}
  }
  return {
    kind: options.kind,
    workers: options.workers,
    port,
    origin: `http://127.0.0.1:${port}`,
    pid,
    pids: () => pids,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      await exited
      clearTimeout(timer)
    }
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** User + system CPU seconds a process has used; 0 once it is gone. */
export function cpuSeconds (pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return 0
  }
}

/** CPU seconds all cores of the machine have spent busy (not idle, not waiting for I/O). */
export function machineBusySeconds (): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0)
    return (total - (v[3] ?? 0) - (v[4] ?? 0)) / CLOCK_TICKS
  } catch {
    return 0
  }
}

/** Resident set size in MiB, as `ps -o rss=` reports it. */
export function rssMiB (pid: number): number {
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024
}

/**
 * A service already running elsewhere (`--target URL`, e.g. the compose service): requests go to it,
 * but its processes cannot be watched, so CPU and memory readings are left out.
 */
export function remote (url: string): Server {
  const parsed = new URL(url)
  return {
    kind: 'service',
    workers: 0,
    port: Number(parsed.port === '' ? 80 : parsed.port),
    origin: parsed.origin,
    pid: 0,
    pids: () => [],
    stop: async () => {}
  }
}

/**
 * Waits until the server has finished what autocannon left in flight (it stops without waiting for
 * the answers, and a 7 MB JSON body takes the server a while): until its processes use less than a
 * tenth of a core over 200 ms, for at most `maxMs`.
 */
export async function settle (server: Server, maxMs = 10_000): Promise<void> {
  const used = (): number => server.pids().reduce((s, pid) => s + cpuSeconds(pid), 0)
  const end = Date.now() + maxMs
  let last = used()
  while (Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    const now = used()
    if (now - last <= 0.02) return
    last = now
  }
}
