import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyRequest {
    /** The logits' shape, for the request's log line; never the values. */
    batchShape: readonly number[] | undefined
  }
}

/** One log line per request: id (from the logger's bindings), route, status, duration, batch shape. */
export default fp(async (app) => {
  app.decorateRequest('batchShape', undefined)
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({
      method: request.method,
      route: request.routeOptions.url ?? request.url,
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
      shape: request.batchShape
    }, 'request completed')
  })
}, { name: 'request-log' })
