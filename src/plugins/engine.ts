import fp from 'fastify-plugin'
import type { Engine } from '../engine/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    engine: Engine
    /** Set on shutdown: readiness answers 503 from then on. */
    draining: boolean
  }
}

/** Decorates the app with the compute engine it was built with. */
export default fp<{ engine: Engine }>(async (app, { engine }) => {
  app.decorate('engine', engine)
  app.decorate('draining', false)
}, { name: 'engine' })
