/**
 * Optional bearer-token auth for the compute routes (/loss/*, /v2/models/{name}/infer) and the runs. Probes, /info,
 * /metrics and /docs stay open: they carry no request data, and Prometheus scrapers and Kubernetes
 * probes usually cannot send a token. Tokens are compared as SHA-256 digests with timingSafeEqual, so
 * neither the token's content nor its length shows in the response time.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import { HttpError } from '../errors.js'
import { guardedRequest } from './surface.js'

export interface AuthOptions {
  /** The accepted token; undefined turns auth off. */
  readonly token: string | undefined
}

/** RFC 6750 section 2.1: the scheme is case-insensitive, then one or more spaces, then the token. */
const BEARER = /^bearer +([\w.~+/-]+=*) *$/i
const REALM = 'Bearer realm="loss-service"'

const digest = (token: string): Buffer => createHash('sha256').update(token).digest()

export default fp<AuthOptions>(async (app, { token }) => {
  if (token === undefined) return
  const expected = digest(token)
  app.addHook('onRequest', async (request, reply) => {
    if (!guardedRequest(request)) return
    const given = BEARER.exec(request.headers.authorization ?? '')?.[1]
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return
    // RFC 6750 section 3: no error code when no credentials were sent, invalid_token otherwise.
    reply.header('www-authenticate', given === undefined && request.headers.authorization === undefined ? REALM : `${REALM}, error="invalid_token"`)
    throw new HttpError(401, request.headers.authorization === undefined
      ? 'this route needs an Authorization: Bearer <token> header'
      : 'the Authorization header does not carry a valid bearer token')
  })
}, { name: 'auth', dependencies: ['errors'] })
