/**
 * Helpers for the operations tests: reading Prometheus text, running the real server as a child
 * process, and talking raw HTTP/1.1 over a socket.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../scripts/lib/net.js'
import type { FastifyInstance } from 'fastify'
import { buildApp, engineFor, serverOptions } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { BACKENDS } from '../helper.js'

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The samples of a text exposition (format 0.0.4). */
export function parseMetrics (text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? ''
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) })
  }
  return out
}

/** The value of the one sample named `name` whose labels include `labels`; undefined if none. */
export function metric (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = parseMetrics(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]?.value
}

export interface Logged {
  readonly app: FastifyInstance
  /** Everything logged so far, as written. */
  text: () => string
  /** The log lines so far, parsed. */
  lines: () => Array<Record<string, any>>
}

/** The production app (its logger options, redaction included) logging at `LOG_LEVEL` to memory. */
export async function buildLogged (env: NodeJS.ProcessEnv = {}): Promise<Logged> {
  const config = loadConfig({ LOG_LEVEL: 'trace', ...env, TFJS_BACKEND: BACKENDS[0] })
  const chunks: string[] = []
  const stream = { write: (chunk: string) => { chunks.push(chunk) } }
  const engine = engineFor(config)
  const app = await buildApp(config, engine, { logger: { ...(serverOptions(config).logger as object), stream } })
  await engine.init()
  await app.ready()
  const text = (): string => chunks.join('')
  return { app, text, lines: () => text().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>) }
}

export interface Server {
  readonly child: ChildProcess
  readonly port: number
  /** Everything the process wrote to stdout, one pino line each. */
  readonly logs: string[]
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url))

/** Starts `node --import tsx src/server.ts` with `env` and waits until readiness answers 200. */
export async function startServer (env: Record<string, string>, readyWithinMs = 60_000): Promise<Server> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const logs: string[] = []
  let stderr = ''
  let partial = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    logs.push(...lines)
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const deadline = Date.now() + readyWithinMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`)
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`)
      if (res.status === 200) return { child, port, logs, exited }
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`server not ready within ${readyWithinMs} ms: ${stderr}`)
}

/** A raw HTTP/1.1 connection: write bytes when you like, read everything the server sends. */
export class RawClient {
  readonly socket: net.Socket
  private received = ''
  readonly closed: Promise<number>

  private constructor (socket: net.Socket) {
    this.socket = socket
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { this.received += chunk })
    socket.on('error', () => {})
    const opened = Date.now()
    /** Resolves with the milliseconds the connection stayed open. */
    this.closed = new Promise((resolve) => socket.once('close', () => resolve(Date.now() - opened)))
  }

  static async connect (port: number): Promise<RawClient> {
    return await new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawClient(socket)))
      socket.once('error', reject)
    })
  }

  write (text: string): void {
    this.socket.write(text)
  }

  get text (): string {
    return this.received
  }

  /** The status codes of the complete responses received so far, in order. */
  get statuses (): number[] {
    return [...this.received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))
  }

  /** Waits until `count` responses have arrived (by their status lines) or `ms` pass. */
  async responses (count: number, ms = 10_000): Promise<number[]> {
    const deadline = Date.now() + ms
    while (this.statuses.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    return this.statuses
  }
}

/** Request head for a JSON POST whose body has `length` bytes. */
export const postHead = (url: string, length: number, headers: Record<string, string> = {}): string =>
  `POST ${url} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n` +
  Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n'
