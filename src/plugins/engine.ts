import fp from 'fastify-plugin'
import { Dataplane } from '../dataplane/index.js'
import type { Engine } from '../engine/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    engine: Engine
    /** What every transport calls to score a decoded request. */
    dataplane: Dataplane
    /** Set on shutdown: readiness answers 503 from then on. */
    draining: boolean
  }
}

/** Decorates the app with the compute engine it was built with and the dataplane over it. */
export default fp<{ engine: Engine }>(async (app, { engine }) => {
  app.decorate('engine', engine)
  app.decorate('dataplane', new Dataplane(engine))
  app.decorate('draining', false)
}, { name: 'engine' })
