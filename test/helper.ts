/**
 * Builds the production app for `inject()` (no port opened), on a chosen tfjs backend.
 */
import { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { buildApp, engineFor } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { installedBackends, type BackendName } from '../src/engine/backend.js'
import type { Backend as StoreBackend } from './unit/store/backends.js'

/** Every tfjs backend installed here: each numeric test runs on all of them. */
export const BACKENDS: readonly BackendName[] = await installedBackends()

export async function build (backend: BackendName = BACKENDS[0] ?? 'cpu', env: NodeJS.ProcessEnv = {}): Promise<FastifyInstance> {
  // The numeric suites block the event loop on purpose (1024x400 on the cpu backend): overload
  // shedding by event-loop delay is tested on its own, with its own limits.
  // Each app gets its own SQLite file for runs unless the test names a store.
  const store = { DATA_DIR: mkdtempSync(join(tmpdir(), 'loss-service-test-')) }
  const config = loadConfig({ LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0', ...store, ...env, TFJS_BACKEND: backend })
  const engine = engineFor(config)
  const app = await buildApp(config, engine)
  await engine.init()
  await app.ready()
  return app
}

/**
 * The enclosing suite's app: built before its tests (handed to `use`), closed after them, and the
 * suite fails if any of its requests, failed ones included, left a tensor behind.
 */
export function suiteApp (use: (app: FastifyInstance) => void, backend?: BackendName, env?: NodeJS.ProcessEnv): void {
  let app: FastifyInstance | undefined
  let tensorsBefore = 0
  before(async () => {
    app = await build(backend, env)
    use(app)
    tensorsBefore = tf.memory().numTensors
  })
  after(async () => {
    assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor leaked by any request, failed ones included')
    await app?.close()
  })
}

/**
 * `suiteApp` on a fresh store of its own (a SQLite file, or a PostgreSQL schema dropped afterwards),
 * for the suites that run on every store.
 */
export function storeSuiteApp (store: StoreBackend, use: (app: FastifyInstance) => void, backend?: BackendName, env: NodeJS.ProcessEnv = {}): void {
  let drop: (() => Promise<void>) | undefined
  let app: FastifyInstance | undefined
  let tensorsBefore = 0
  before(async () => {
    const fresh = await store.fresh()
    drop = fresh.drop
    app = await build(backend, { ...fresh.config, ...env })
    use(app)
    tensorsBefore = tf.memory().numTensors
  })
  after(async () => {
    assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor leaked by any request, failed ones included')
    await app?.close()
    await drop?.()
  })
}

/** POST a JSON body. */
export async function post (app: FastifyInstance, url: string, body: unknown): Promise<{ status: number, json: any }> {
  const res = await app.inject({ method: 'POST', url, payload: body as object })
  return { status: res.statusCode, json: res.json() }
}
