import { STATUS_CODES } from 'node:http'
import fp from 'fastify-plugin'
import type { FastifyError } from 'fastify'
import { ConflictError, InvalidInputError, NotFoundError, UnavailableError, UnrepresentableError } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'v2' answers errors as `{ error }` (Open Inference Protocol); the default is `{ statusCode, error, message }`. */
    errorFormat?: 'rest' | 'v2'
  }
}

/** The status of an error: the core's kinds by class, the transport's and Fastify's by their own code. */
export function statusOf (err: Error & { statusCode?: unknown }): number {
  if (err instanceof InvalidInputError) return 400
  if (err instanceof NotFoundError) return 404
  if (err instanceof ConflictError) return 409
  if (err instanceof UnrepresentableError) return 422
  if (err instanceof UnavailableError) return 503
  const code = err.statusCode
  return typeof code === 'number' && code >= 400 && code < 600 ? code : 500
}

/**
 * One error handler for every route: client errors are answered with their message, logged at
 * info; anything else is a 500 whose internals stay in the log.
 */
export default fp(async (app) => {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = statusOf(err)
    if (status >= 500 && !(err instanceof UnavailableError)) {
      request.log.error({ err }, 'request failed')
    } else {
      request.log.info({ statusCode: status, reason: err.message }, 'request rejected')
    }
    if (err instanceof UnavailableError) reply.header('retry-after', String(err.retryAfterSeconds))
    const message = status >= 500 && !(err instanceof UnavailableError)
      ? 'Internal Server Error'
      : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? `unsupported content-type ${JSON.stringify(request.headers['content-type'] ?? '')}: send application/json`
        : err.message
    reply.code(status)
    if (request.routeOptions.config.errorFormat === 'v2') return { error: message }
    return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message }
  })

  app.setNotFoundHandler((request, reply) => {
    reply.code(404)
    const message = `Route ${request.method}:${request.url.split('?')[0] ?? ''} not found`
    if (/^\/v2(\/|\?|$)/.test(request.url)) return { error: message }
    return { statusCode: 404, error: 'Not Found', message }
  })
}, { name: 'errors' })
