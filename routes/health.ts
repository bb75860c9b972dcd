import * as tf from '@tensorflow/tfjs-core'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { pkg } from '../src/meta.js'

const Status = Type.Object({ status: Type.String() })

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
    schema: { tags: ['health'], summary: 'The tfjs backend is initialised and the server is not shutting down', response: { 200: Status, 503: Status } }
  }, async (_request, reply) => {
    if (app.engine.ready && !app.draining) return { status: 'ready' }
    reply.code(503)
    return { status: app.draining ? 'draining' : 'starting' }
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
