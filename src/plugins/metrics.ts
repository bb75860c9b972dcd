/**
 * Prometheus metrics at GET /metrics, kept with prom-client: the exposition format, histograms and
 * Node's process metrics (CPU, memory, event-loop delay, GC) come from the client every Node
 * exporter uses, and so does the aggregation across node:cluster workers.
 *
 * With WORKERS > 1 the workers share one port and a scrape reaches any one of them; per-worker
 * counters would then jump between workers' values and look like resets to `rate()`. So a worker asked
 * for /metrics asks the primary, which collects every worker's registry (prom-client's
 * AggregatorRegistry) and answers with the sum: one target, one pod, monotonic counters.
 * @see https://github.com/siimon/prom-client#usage-with-nodejss-cluster-module
 */
import cluster from 'node:cluster'
import { Type } from '@sinclair/typebox'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client'
import { UnavailableError } from '../errors.js'
import { ErrorReply } from '../../schemas/common.js'
import { pkg } from '../meta.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's registry; plugins add their own metrics to it. */
    metrics: Registry
  }
}

const ASK = 'loss-service:metrics?'
const ANSWER = 'loss-service:metrics'
/** prom-client gives up on workers after 5 s; the worker waits a little longer for that answer. */
const ANSWER_TIMEOUT_MS = 6000

interface Ask { type: typeof ASK, id: number }
interface Answer { type: typeof ANSWER, id: number, text?: string, error?: string }

const isAsk = (m: unknown): m is Ask => typeof m === 'object' && m !== null && (m as Ask).type === ASK
const isAnswer = (m: unknown): m is Answer => typeof m === 'object' && m !== null && (m as Answer).type === ANSWER

let processRegistry: Registry | undefined
/** Node's process metrics, once per process however many apps it builds (the tests build many). */
function processMetrics (): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/** In the cluster primary: answers a worker's scrape with every worker's metrics, summed. */
export function aggregateWorkerMetrics (): void {
  const aggregator = new AggregatorRegistry()
  cluster.on('message', (worker, message: unknown) => {
    if (!isAsk(message)) return
    const reply = (answer: Omit<Answer, 'type' | 'id'>): void => {
      if (worker.isConnected()) worker.send({ type: ANSWER, id: message.id, ...answer })
    }
    aggregator.clusterMetrics().then((text) => reply({ text }), (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }))
  })
}

let nextAsk = 0
/** In a cluster worker: the whole cluster's metrics, from the primary. */
async function clusterMetrics (): Promise<string> {
  const id = nextAsk++
  return await new Promise<string>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer)
      process.off('message', onMessage)
    }
    const onMessage = (message: unknown): void => {
      if (!isAnswer(message) || message.id !== id) return
      done()
      if (message.text !== undefined) resolve(message.text)
      else reject(new UnavailableError(`could not collect the workers' metrics: ${message.error ?? 'no answer'}`))
    }
    const timer = setTimeout(() => {
      done()
      reject(new UnavailableError('the primary process did not send the workers\' metrics in time'))
    }, ANSWER_TIMEOUT_MS)
    process.on('message', onMessage)
    process.send?.({ type: ASK, id } satisfies Ask)
  })
}

const routeOf = (request: FastifyRequest): string => request.routeOptions.url ?? 'unmatched'

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/metrics', {
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics',
      description: 'Text exposition format 0.0.4. With several worker processes, the sum over all of them.',
      produces: ['text/plain'],
      response: {
        200: Type.String({ description: 'Prometheus text format', examples: ['# HELP loss_service_http_requests_total ...\n'] }),
        503: ErrorReply
      }
    }
  }, async (_request, reply) => {
    const registry = Registry.merge([processMetrics(), app.metrics])
    const text = cluster.isWorker ? await clusterMetrics() : await registry.metrics()
    return await reply.type(registry.contentType).send(text)
  })
}

/**
 * HTTP, compute, batch-shape and tfjs memory metrics for this app, and the /metrics route.
 * Names follow Prometheus conventions: a `loss_service_` prefix, base units, `_total` counters.
 */
export default fp(async (app) => {
  const registry = new Registry()
  app.decorate('metrics', registry)
  const registers = [registry]
  const engine = app.engine

  const requests = new Counter({
    name: 'loss_service_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'],
    registers
  })
  const duration = new Histogram({
    name: 'loss_service_http_request_duration_seconds',
    help: 'Time from the request\'s arrival to the end of its response',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers
  })
  const aborted = new Counter({
    name: 'loss_service_http_requests_aborted_total',
    help: 'Requests whose connection closed before the whole request arrived (client gone or cut off by a timeout)',
    labelNames: ['route'],
    registers
  })
  const inFlight = new Gauge({
    name: 'loss_service_http_requests_in_flight',
    help: 'Requests received and not yet answered, on every route',
    registers
  })
  const compute = new Histogram({
    name: 'loss_service_compute_duration_seconds',
    help: 'Time a loss spends in the engine, queueing for its batch included, by kernel',
    labelNames: ['kernel'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers
  })
  const rows = new Histogram({
    name: 'loss_service_batch_rows',
    help: 'Rows (N) of each batch scored',
    labelNames: ['route'],
    buckets: exponentialBuckets(1, 4, 10),
    registers
  })
  const classes = new Histogram({
    name: 'loss_service_batch_classes',
    help: 'Classes (C) of each batch scored; 1 for binary [N] logits',
    labelNames: ['route'],
    buckets: exponentialBuckets(1, 2, 15),
    registers
  })
  /* eslint-disable no-new -- these register themselves and are read only at scrape time */
  new Gauge({
    name: 'loss_service_tfjs_tensors',
    help: 'Tensors tfjs holds; constant between requests unless memory leaks',
    registers,
    collect () { this.set(engine.memory().numTensors) }
  })
  new Gauge({
    name: 'loss_service_tfjs_memory_bytes',
    help: 'Bytes held by tfjs tensors',
    registers,
    collect () { this.set(engine.memory().numBytes) }
  })
  new Gauge({
    name: 'loss_service_info',
    help: 'Always 1; the labels carry the service version, tfjs version and active tfjs backend ("none" while starting)',
    labelNames: ['version', 'tfjs', 'backend'],
    aggregator: 'max',
    registers,
    collect () {
      this.reset()
      this.set({ version: pkg.version, tfjs: tf.version_core, backend: engine.backend ?? 'none' }, 1)
    }
  })
  new Gauge({
    name: 'loss_service_worker_processes',
    help: 'Processes whose metrics this scrape sums (WORKERS in cluster mode, else 1)',
    registers,
    collect () { this.set(1) }
  })
  new Counter({
    name: 'loss_service_engine_kernel_calls_total',
    help: 'tfjs kernel calls run by the dynamic batcher; each serves one or more requests',
    registers,
    collect () {
      this.reset()
      this.inc(engine.batchStats.calls)
    }
  })
  new Counter({
    name: 'loss_service_engine_plans_total',
    help: 'Losses scored by the engine; divided by kernel calls, the mean batch merge factor',
    registers,
    collect () {
      this.reset()
      this.inc(engine.batchStats.plans)
    }
  })
  /* eslint-enable no-new */

  if (cluster.isWorker) {
    // The primary's AggregatorRegistry asks every worker for these two registries.
    AggregatorRegistry.setRegistries([processMetrics(), registry])
    // eslint-disable-next-line no-new -- constructing it installs prom-client's worker-side listener
    new AggregatorRegistry()
  }

  // The engine reports each plan's time; src/engine stays free of metrics.
  engine.observe((kernel, seconds) => compute.observe({ kernel }, seconds))

  app.addHook('onRequest', async (_request, reply) => {
    inFlight.inc()
    // 'close' fires for answered, aborted and timed-out requests alike, so the gauge cannot drift.
    reply.raw.once('close', () => inFlight.dec())
  })
  app.addHook('onRequestAbort', async (request) => {
    aborted.inc({ route: routeOf(request) })
  })
  app.addHook('onResponse', async (request, reply) => {
    const route = routeOf(request)
    const labels = { method: request.method, route, status_code: String(reply.statusCode) }
    requests.inc(labels)
    duration.observe(labels, reply.elapsedTime / 1000)
    const shape = request.batchShape
    if (shape !== undefined && reply.statusCode < 400) {
      rows.observe({ route }, shape[0] ?? 0)
      classes.observe({ route }, shape.length > 1 ? shape[1] ?? 1 : 1)
    }
  })

  await app.register(routes)
}, { name: 'metrics', dependencies: ['engine', 'request-log'] })
