/**
 * The environment, validated once at start-up against a TypeBox schema. A bad value is a clear
 * message and a non-zero exit, never a surprise later.
 */
import os from 'node:os'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

const Int = (options: { minimum: number, maximum?: number, default: number, description: string }) =>
  Type.Integer(options)

export const ConfigSchema = Type.Object({
  PORT: Int({ minimum: 0, maximum: 65535, default: 8080, description: 'TCP port to listen on' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'address to bind; 0.0.0.0 in containers' }),
  LOG_LEVEL: Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')], { default: 'info', description: 'pino log level' }),
  BODY_LIMIT: Int({ minimum: 1024, maximum: 2 ** 31 - 1, default: 64 * 1024 * 1024, description: 'largest request body in bytes; larger ones get 413' }),
  TFJS_BACKEND: Type.Union([Type.Literal('auto'), Type.Literal('tensorflow'), Type.Literal('wasm'), Type.Literal('cpu')], { default: 'auto', description: 'tfjs backend; auto tries tensorflow, then wasm, then cpu' }),
  WORKERS: Int({ minimum: 1, maximum: 256, default: os.availableParallelism(), description: 'processes serving the port (node:cluster); default: available parallelism' }),
  SHUTDOWN_GRACE_MS: Int({ minimum: 0, maximum: 3_600_000, default: 25_000, description: 'on SIGTERM/SIGINT: how long in-flight requests may take before the process exits anyway' }),
  BATCH_MAX_ROWS: Int({ minimum: 1, default: 65536, description: 'largest number of rows the dynamic batcher merges into one tfjs call' }),
  BATCH_WAIT_US: Int({ minimum: 0, maximum: 1_000_000, default: 0, description: 'extra microseconds the batcher waits for concurrent requests; 0 = only those already parsed' })
}, { additionalProperties: true })

export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error {}

/** Reads the variables the schema names from `env`; throws ConfigError listing every bad one. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw))
  const problems = [...Value.Errors(ConfigSchema, converted)]
  if (problems.length > 0) {
    const lines = problems.map((e) => `${e.path.slice(1)}=${JSON.stringify(raw[e.path.slice(1)])}: ${e.message}`)
    throw new ConfigError(`invalid configuration:\n  ${[...new Set(lines)].join('\n  ')}`)
  }
  return converted as Config
}
