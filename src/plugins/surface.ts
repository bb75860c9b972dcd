/**
 * Which routes compute and which report health, read from the route's URL pattern, so auth, the
 * in-flight bound and overload shedding agree on one list and routes added later (V2, compare) are
 * covered without touching their files.
 */
import type { FastifyRequest } from 'fastify'

const V2_INFER = /^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/infer$/

/** POST /loss/* and POST /v2/models/{name}[/versions/{v}]/infer: the routes that run tfjs. */
export function isCompute (method: string, url: string | undefined): boolean {
  return method === 'POST' && url !== undefined && (url.startsWith('/loss/') || V2_INFER.test(url))
}

/** Probes and the scrape: answered even under overload, because they are how overload is seen. */
export function isHealth (url: string | undefined): boolean {
  return url !== undefined && (url.startsWith('/health/') || url.startsWith('/v2/health/') || url === '/metrics')
}

export const computeRequest = (request: FastifyRequest): boolean => isCompute(request.method, request.routeOptions.url)
