import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import { buildApp, engineFor } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { BACKENDS, build } from '../helper.js'

test('readiness is 503 until the backend is initialised, loss routes too', async () => {
  const config = loadConfig({ LOG_LEVEL: 'silent', TFJS_BACKEND: BACKENDS[0] })
  const engine = engineFor(config)
  const app = await buildApp(config, engine)
  assert.equal((await app.inject('/health/live')).statusCode, 200)
  const notReady = await app.inject('/health/ready')
  assert.equal(notReady.statusCode, 503)
  assert.deepEqual(notReady.json(), { status: 'starting' })
  const early = await app.inject({ method: 'POST', url: '/loss/ce', payload: { logits: [[1, 2]], labels: [0] } })
  assert.equal(early.statusCode, 503)
  assert.equal(early.headers['retry-after'], '1')
  assert.equal((await app.inject('/info')).json().backend, null)
  await engine.init()
  assert.deepEqual((await app.inject('/health/ready')).json(), { status: 'ready', store: { status: 'ok', dialect: 'sqlite' } })
  app.draining = true
  assert.deepEqual((await app.inject('/health/ready')).json(), { status: 'draining' })
  await app.close()
})

for (const backend of BACKENDS) {
  test(`/info reports the active backend (${backend})`, async () => {
    const app = await build(backend)
    const info = (await app.inject('/info')).json()
    assert.equal(info.backend, backend)
    assert.equal(info.tfjs, tf.version_core)
    assert.equal(info.name, 'loss-service')
    assert.match(info.version, /^\d+\.\d+\.\d+/)
    assert.ok(Array.isArray(info.backendsFailed))
    await app.close()
  })
}

test('auto falls back past backends that cannot load, and says why', async () => {
  const config = loadConfig({ LOG_LEVEL: 'silent', TFJS_BACKEND: 'auto' })
  const engine = engineFor(config)
  const app = await buildApp(config, engine)
  await engine.init()
  const info = (await app.inject('/info')).json()
  assert.equal(info.backend, BACKENDS[0])
  if (BACKENDS[0] !== 'tensorflow') {
    assert.equal(info.backendsFailed[0].backend, 'tensorflow')
    assert.match(info.backendsFailed[0].error, /tfjs-node/)
  }
  await app.close()
})

test('a backend that is not installed cannot be forced', async () => {
  if (BACKENDS.includes('tensorflow')) return
  const config = loadConfig({ LOG_LEVEL: 'silent', TFJS_BACKEND: 'tensorflow' })
  await assert.rejects(engineFor(config).init(), /no tfjs backend could be started: tensorflow: /)
})
