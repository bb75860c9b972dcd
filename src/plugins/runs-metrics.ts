/**
 * The runs' Prometheus metrics: open runs, batches by outcome, and the store's latency per
 * operation. Batches are counted at the HTTP edge, so that a batch refused before it reaches the
 * store (a bad body, a body over the limit, a missing token) is counted with its reason too.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Counter, Gauge, Histogram } from 'prom-client'
import { InvalidInputError, UnavailableError } from '../errors.js'
import { RunClosedError, type Runs } from '../dataplane/runs/index.js'
import type { RunStore } from '../store/index.js'
import { isRunInfer } from '../wire/v2/runs.js'
import type { InferRequest } from '../../schemas/v2.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** A run's batch that was answered 2xx: added now, or a retry of one added before. */
    runBatch: 'accepted' | 'replayed' | undefined
    /** A run's batch refused because its run is closed (told apart from a batch id's conflict). */
    runClosed: boolean
  }
}

const PUT_ROUTE = '/runs/:id/batches/:batchId'
const V2_INFER = /^\/v2\/models\/:model(\/versions\/:version)?\/infer$/

/** Why a run's batch was refused, from its status; 409 says which conflict. */
function reason (status: number, request: FastifyRequest): string {
  switch (status) {
    case 400: return 'invalid'
    case 401: return 'unauthorized'
    case 404: return 'not_found'
    case 408: return 'timeout'
    case 409: return request.runClosed ? 'closed' : 'conflict'
    case 413: return 'too_large'
    case 415: return 'invalid'
    case 422: return 'unrepresentable'
    case 503: return 'unavailable'
    default: return 'error'
  }
}

function isRunBatch (request: FastifyRequest): boolean {
  const route = request.routeOptions.url
  if (route === PUT_ROUTE) return request.method === 'PUT'
  if (route === undefined || !V2_INFER.test(route)) return false
  const body = request.body as InferRequest | undefined
  return typeof body === 'object' && body !== null && isRunInfer(body)
}

/** The store with every call timed into `histogram`, labelled by operation and outcome. */
export function timedStore (store: RunStore, histogram: Histogram<'operation' | 'outcome'>): RunStore {
  return new Proxy(store, {
    get (target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof value !== 'function' || typeof key !== 'string') return value
      return async (...args: unknown[]) => {
        const end = histogram.startTimer({ operation: key })
        try {
          const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
          end({ outcome: 'ok' })
          return result
        } catch (err) {
          end({ outcome: err instanceof UnavailableError ? 'unavailable' : err instanceof InvalidInputError ? 'invalid' : 'error' })
          throw err
        }
      }
    }
  })
}

/** The histogram timedStore fills; made before the store is opened, so migrations are timed too. */
export function storeHistogram (app: FastifyInstance): Histogram<'operation' | 'outcome'> {
  return new Histogram({
    name: 'loss_service_run_store_duration_seconds',
    help: 'Time of each run store call by operation (putBatch includes the merge inside its transaction) and outcome (ok, unavailable, invalid, error)',
    labelNames: ['operation', 'outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [app.metrics]
  })
}

export function runsMetrics (app: FastifyInstance, runs: Runs): void {
  const registers = [app.metrics]
  // eslint-disable-next-line no-new -- registers itself and is read only at scrape time
  new Gauge({
    name: 'loss_service_runs_open',
    help: 'Runs open in the store; every worker and replica sees the same number, so take the max, not the sum',
    // Each worker counts the whole store: the cluster's sum would multiply it by WORKERS.
    aggregator: 'max',
    registers,
    async collect () {
      // A store that does not answer keeps the last count; readiness and the store histogram report the outage.
      await runs.openRuns().then((n) => this.set(n), () => {})
    }
  })
  const batches = new Counter({
    name: 'loss_service_run_batches_total',
    help: 'Batches PUT into runs (JSON and V2) by outcome: accepted, replayed (a retry counted once), rejected with a reason',
    labelNames: ['outcome', 'reason'],
    registers
  })

  app.decorateRequest('runBatch', undefined)
  app.decorateRequest('runClosed', false)
  app.addHook('onError', async (request, _reply, error) => {
    if (error instanceof RunClosedError) request.runClosed = true
  })
  app.addHook('onResponse', async (request, reply) => {
    if (!isRunBatch(request)) return
    const status = reply.statusCode
    if (status < 300) batches.inc({ outcome: request.runBatch ?? 'accepted' })
    else batches.inc({ outcome: 'rejected', reason: reason(status, request) })
  })
}
