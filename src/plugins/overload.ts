/**
 * Overload protection: a request the process cannot serve soon is answered 503 with Retry-After at
 * once, so that a load balancer or client retries elsewhere instead of queueing without bound.
 *
 * - Pressure (@fastify/under-pressure): event-loop delay, V8 heap or RSS sampled above their limits.
 *   Probes and /metrics stay open, since they are how an overloaded process is seen.
 * - Concurrency: at most MAX_INFLIGHT compute requests per process, counted from their headers, so a
 *   rejected request's body is never read.
 * - Timeouts (`timeoutOptions`): slow or stalled clients are cut off by Node's HTTP server.
 * - Draining: answers close their connections, so that shutdown is not held by idle keep-alives.
 */
import type { ServerOptions } from 'node:http'
import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import type { Config } from '../config.js'
import { UnavailableError } from '../errors.js'
import { computeRequest, isHealth } from './surface.js'

export interface OverloadOptions {
  readonly maxInflight: number
  readonly maxEventLoopDelayMs: number
  readonly maxHeapUsedBytes: number
  readonly maxRssBytes: number
  readonly sampleMs: number
  readonly retryAfterSeconds: number
}

export const overloadOptions = (config: Config): OverloadOptions => ({
  maxInflight: config.MAX_INFLIGHT,
  maxEventLoopDelayMs: config.MAX_EVENT_LOOP_DELAY_MS,
  maxHeapUsedBytes: config.MAX_HEAP_USED_BYTES,
  maxRssBytes: config.MAX_RSS_BYTES,
  sampleMs: config.OVERLOAD_SAMPLE_MS,
  retryAfterSeconds: config.RETRY_AFTER_S
})

/**
 * Fastify / Node HTTP server timeouts. Node enforces the request and headers timeouts from a periodic
 * sweep (every 30 s by default); a sweep at a quarter of the shorter timeout, at most every second,
 * cuts a stalled client off close to its limit.
 */
export function timeoutOptions (config: Config): { requestTimeout: number, keepAliveTimeout: number, http: ServerOptions } {
  const requestTimeout = config.REQUEST_TIMEOUT_MS
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(config.HEADERS_TIMEOUT_MS, requestTimeout)
  return {
    requestTimeout,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    http: {
      requestTimeout,
      headersTimeout,
      keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4)))
    }
  }
}

const PRESSURE: Record<string, (value: number) => string> = {
  eventLoopDelay: (v) => `event-loop delay ${Math.round(v)} ms is above MAX_EVENT_LOOP_DELAY_MS`,
  heapUsedBytes: (v) => `V8 heap use ${Math.round(v / 2 ** 20)} MiB is above MAX_HEAP_USED_BYTES`,
  rssBytes: (v) => `resident memory ${Math.round(v / 2 ** 20)} MiB is above MAX_RSS_BYTES`
}

export default fp<OverloadOptions>(async (app, options) => {
  const { retryAfterSeconds } = options
  const rejected = new Counter({
    name: 'loss_service_overload_rejections_total',
    help: 'Requests answered 503 by overload protection, by reason: inflight, eventLoopDelay, heapUsedBytes, rssBytes',
    labelNames: ['reason'],
    registers: [app.metrics]
  })

  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    maxHeapUsedBytes: options.maxHeapUsedBytes,
    maxRssBytes: options.maxRssBytes,
    sampleInterval: options.sampleMs,
    pressureHandler: async (request, _reply, type, value) => {
      if (isHealth(request.routeOptions.url)) return
      rejected.inc({ reason: type })
      const why = PRESSURE[type]?.(value ?? 0) ?? type
      throw new UnavailableError(`the server is overloaded: ${why}; retry in ${retryAfterSeconds} s`, retryAfterSeconds)
    }
  })

  let inflight = 0
  // eslint-disable-next-line no-new -- registers itself; read at scrape time
  new Gauge({
    name: 'loss_service_compute_requests_in_flight',
    help: 'Compute requests (/loss/*, /v2/models/{name}/infer) admitted and not yet answered; at most MAX_INFLIGHT',
    registers: [app.metrics],
    collect () { this.set(inflight) }
  })
  app.addHook('onRequest', async (request, reply) => {
    if (!computeRequest(request)) return
    if (inflight >= options.maxInflight) {
      rejected.inc({ reason: 'inflight' })
      throw new UnavailableError(`${inflight} compute requests are in flight, the most this process takes (MAX_INFLIGHT); retry in ${retryAfterSeconds} s`, retryAfterSeconds)
    }
    inflight++
    reply.raw.once('close', () => { inflight-- })
  })

  // While draining, every answer closes its connection: a keep-alive socket left idle after its last
  // answer would otherwise hold app.close() until KEEP_ALIVE_TIMEOUT_MS, past the shutdown grace.
  app.addHook('onSend', async (_request, reply) => {
    if (app.draining) reply.header('connection', 'close')
  })
}, { name: 'overload', dependencies: ['engine', 'metrics', 'errors'] })
