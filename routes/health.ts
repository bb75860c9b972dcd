import * as tf from '@tensorflow/tfjs-core'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { pkg } from '../src/meta.js'

const Status = Type.Object({ status: Type.String() })

const Ready = Type.Object({
  status: Type.String({ description: 'ready; starting or draining; unavailable when the run store does not answer' }),
  store: Type.Optional(Type.Object({
    status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    dialect: Type.String({ description: 'sqlite or postgres' }),
    reason: Type.Optional(Type.String({ description: 'why the store is unavailable' }))
  }))
})

/** A readiness probe's own timeout is usually 1 s: the store gets less than that to answer. */
const STORE_PING_MS = 800

const Info = Type.Object({
  name: Type.String(),
  version: Type.String(),
  tfjs: Type.String(),
  backend: Type.Union([Type.String(), Type.Null()], { description: 'the active tfjs backend: tensorflow, wasm or cpu; null while starting' }),
  backendsFailed: Type.Array(Type.Object({ backend: Type.String(), error: Type.String() }), { description: 'backends tried first that could not start, and why' }),
  node: Type.String()
})

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health/live', { schema: { tags: ['health'], summary: 'The process is running', response: { 200: Status } } },
    async () => ({ status: 'live' }))

  app.get('/health/ready', {
    schema: {
      tags: ['health'],
      summary: 'The tfjs backend is initialised, the run store answers and the server is not shutting down',
      response: { 200: Ready, 503: Ready }
    }
  }, async (_request, reply) => {
    if (!app.engine.ready || app.draining) {
      reply.code(503)
      return { status: app.draining ? 'draining' : 'starting' }
    }
    const store = await app.runs.health(STORE_PING_MS)
    if (store.status === 'ok') return { status: 'ready', store }
    reply.code(503)
    return { status: 'unavailable', store }
  })

  app.get('/info', { schema: { tags: ['health'], summary: 'Service, tfjs and backend versions', response: { 200: Info } } },
    async () => ({
      name: pkg.name,
      version: pkg.version,
      tfjs: tf.version_core,
      backend: app.engine.backend ?? null,
      backendsFailed: [...app.engine.failedBackends],
      node: process.version
    }))
}

export default healthRoutes
