/**
 * The environment, validated once at start-up against a TypeBox schema. A bad value is a clear
 * message and a non-zero exit, never a surprise later.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import v8 from 'node:v8'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

const Int = (options: { minimum: number, maximum?: number, default: number, description: string }) =>
  Type.Integer(options)

/**
 * CPUs this process may use: the cgroup v2 quota when one is set (a container's --cpus, a pod's CPU
 * limit), which os.availableParallelism() does not see, else the cores.
 */
export function availableCpus (cpuMax = '/sys/fs/cgroup/cpu.max'): number {
  const cores = os.availableParallelism()
  try {
    const [quota, period] = readFileSync(cpuMax, 'utf8').trim().split(/\s+/)
    if (quota === undefined || quota === 'max' || period === undefined) return cores
    return Math.max(1, Math.min(cores, Math.ceil(Number(quota) / Number(period))))
  } catch {
    return cores
  }
}

export const ConfigSchema = Type.Object({
  PORT: Int({ minimum: 0, maximum: 65535, default: 8080, description: 'TCP port to listen on' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'address to bind; 0.0.0.0 in containers' }),
  LOG_LEVEL: Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')], { default: 'info', description: 'pino log level' }),
  BODY_LIMIT: Int({ minimum: 1024, maximum: 2 ** 31 - 1, default: 64 * 1024 * 1024, description: 'largest request body in bytes; larger ones get 413' }),
  TFJS_BACKEND: Type.Union([Type.Literal('auto'), Type.Literal('tensorflow'), Type.Literal('wasm'), Type.Literal('cpu')], { default: 'auto', description: 'tfjs backend; auto tries tensorflow, then wasm, then cpu' }),
  WORKERS: Int({ minimum: 1, maximum: 256, default: availableCpus(), description: 'processes serving the port (node:cluster); default: the CPUs available, honouring a container CPU limit (cgroup cpu.max)' }),
  DRAIN_DELAY_MS: Int({ minimum: 0, maximum: 600_000, default: 1000, description: 'on SIGTERM/SIGINT: how long readiness answers 503 while requests are still served, before the listener closes' }),
  SHUTDOWN_GRACE_MS: Int({ minimum: 0, maximum: 3_600_000, default: 25_000, description: 'on SIGTERM/SIGINT: how long in-flight requests may take before the process exits anyway' }),
  BATCH_MAX_ROWS: Int({ minimum: 1, default: 65536, description: 'largest number of rows the dynamic batcher merges into one tfjs call' }),
  BATCH_WAIT_US: Int({ minimum: 0, maximum: 1_000_000, default: 0, description: 'extra microseconds the batcher waits for concurrent requests; 0 = only those already parsed' }),
  API_TOKEN: Type.Optional(Type.String({ minLength: 1, description: 'when set, /loss/* and /v2/models/*/infer need `Authorization: Bearer <token>`; unset or empty: no auth' })),
  MAX_INFLIGHT: Int({ minimum: 1, default: 64, description: 'compute requests (/loss/*, /v2/models/*/infer) one process serves at once; more get 503 + Retry-After at once' }),
  MAX_EVENT_LOOP_DELAY_MS: Int({ minimum: 0, default: 1000, description: 'mean event-loop delay over a sample above which requests get 503 (health and /metrics exempt); 0 = off' }),
  MAX_HEAP_USED_BYTES: Int({ minimum: 0, default: Math.floor(v8.getHeapStatistics().heap_size_limit * 0.9), description: 'V8 heap in use above which requests get 503; 0 = off; default: 90% of the heap limit' }),
  MAX_RSS_BYTES: Int({ minimum: 0, default: 0, description: 'resident memory above which requests get 503; 0 = off' }),
  OVERLOAD_SAMPLE_MS: Int({ minimum: 10, maximum: 60_000, default: 1000, description: 'how often event-loop delay and memory are sampled' }),
  RETRY_AFTER_S: Int({ minimum: 1, maximum: 3600, default: 1, description: 'Retry-After seconds sent with overload 503s' }),
  REQUEST_TIMEOUT_MS: Int({ minimum: 1, default: 60_000, description: 'longest time to receive a whole request (headers and body); slower clients are cut off' }),
  HEADERS_TIMEOUT_MS: Int({ minimum: 1, default: 10_000, description: 'longest time to receive the request headers; capped at REQUEST_TIMEOUT_MS' }),
  KEEP_ALIVE_TIMEOUT_MS: Int({ minimum: 1, default: 72_000, description: 'idle keep-alive connections are closed after this; keep it above the load balancer\'s idle timeout' }),
  DATA_DIR: Type.String({ minLength: 1, default: './data', description: 'directory of the embedded SQLite store (runs.sqlite), created when missing; unused when DATABASE_URL is set' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'postgres://user@host:port/db puts runs in PostgreSQL, shared by every replica; unset: SQLite under DATA_DIR' })),
  MAX_RUNS: Int({ minimum: 1, default: 1000, description: 'open runs at once; creating one more is refused until one is closed or deleted' }),
  RUN_RETENTION_DAYS: Int({ minimum: 1, default: 30, description: 'closed runs older than this many days are deleted' })
}, { additionalProperties: true })

export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error {}

/** How a bad value is quoted in the error: never a token or a database password. */
function shown (key: string, value: string | undefined): string {
  if (key === 'API_TOKEN') return '(hidden)'
  if (key === 'DATABASE_URL' && value !== undefined) return JSON.stringify(value.replace(/^([^:]+:\/\/[^:@/]*):[^@/]*@/, '$1:***@'))
  return JSON.stringify(value)
}

/** Reads the variables the schema names from `env`; throws ConfigError listing every bad one. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw))
  const problems = [...Value.Errors(ConfigSchema, converted)]
  // Convert truncates "80.5" to 80: an integer variable must be written as one.
  for (const [key, schema] of Object.entries(ConfigSchema.properties)) {
    const value = env[key]
    if (schema.type === 'integer' && value !== undefined && value !== '' && !/^[+-]?\d+$/.test(value.trim())) {
      problems.push({ path: `/${key}`, message: 'Expected integer' } as (typeof problems)[number])
    }
  }
  if (problems.length > 0) {
    const lines = problems.map((e) => { const key = e.path.slice(1); return `${key}=${shown(key, env[key])}: ${e.message}` })
    throw new ConfigError(`invalid configuration:\n  ${[...new Set(lines)].join('\n  ')}`)
  }
  return converted as Config
}
