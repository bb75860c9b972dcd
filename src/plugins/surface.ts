/**
 * Which routes compute and which report health, read from the route's URL pattern, so auth, the
 * in-flight bound and overload shedding agree on one list and routes added later (V2, compare) are
 * covered without touching their files.
 */
import type { FastifyRequest } from 'fastify'

const V2_INFER = /^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/infer$/

/** POST /loss/*, POST /v2/models/{name}[/versions/{v}]/infer and a run's batch PUT: the routes that run tfjs. */
export function isCompute (method: string, url: string | undefined): boolean {
  if (url === undefined) return false
  if (method === 'PUT') return url === '/runs/:id/batches/:batchId'
  return method === 'POST' && (url.startsWith('/loss/') || V2_INFER.test(url))
}

/** What API_TOKEN guards: the compute routes and every route of the runs, which hold the callers' results. */
export function isGuarded (method: string, url: string | undefined): boolean {
  return isCompute(method, url) || (url !== undefined && (url === '/runs' || url.startsWith('/runs/')))
}

/** Probes and the scrape: answered even under overload, because they are how overload is seen. */
export function isHealth (url: string | undefined): boolean {
  return url !== undefined && (url.startsWith('/health/') || url.startsWith('/v2/health/') || url === '/metrics')
}

export const computeRequest = (request: FastifyRequest): boolean => isCompute(request.method, request.routeOptions.url)
export const guardedRequest = (request: FastifyRequest): boolean => isGuarded(request.method, request.routeOptions.url)
