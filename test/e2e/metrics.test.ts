/**
 * GET /metrics: Prometheus names and labels, and values that move with the requests served.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { buildApp, engineFor } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { BACKENDS, build } from '../helper.js'
import { metric, parseMetrics } from './util.js'

const scrape = async (app: FastifyInstance): Promise<string> => {
  const res = await app.inject('/metrics')
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
  return res.body
}

const batch = (n: number, c: number) => ({
  logits: Array.from({ length: n }, (_, i) => Array.from({ length: c }, (_, j) => Math.sin(i * c + j))),
  labels: Array.from({ length: n }, (_, i) => i % c)
})

test('every metric follows the Prometheus naming conventions and has help and type', async () => {
  const app = await build()
  const text = await scrape(app)
  const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1] ?? '', type: m[2] ?? '' }))
  const ours = families.filter((f) => f.name.startsWith('loss_service_'))
  assert.deepEqual(ours.map((f) => f.name).sort(), [
    'loss_service_batch_classes', 'loss_service_batch_rows', 'loss_service_compute_duration_seconds',
    'loss_service_compute_requests_in_flight', 'loss_service_engine_kernel_calls_total', 'loss_service_engine_plans_total',
    'loss_service_http_request_duration_seconds', 'loss_service_http_requests_aborted_total', 'loss_service_http_requests_in_flight',
    'loss_service_http_requests_total', 'loss_service_info', 'loss_service_overload_rejections_total',
    'loss_service_run_batches_total', 'loss_service_run_store_duration_seconds', 'loss_service_runs_open',
    'loss_service_tfjs_memory_bytes', 'loss_service_tfjs_tensors', 'loss_service_worker_processes'
  ])
  for (const { name, type } of ours) {
    assert.match(name, /^[a-z_]+$/)
    assert.equal(name.endsWith('_total'), type === 'counter', `${name} is a ${type}`)
    if (name.includes('duration')) assert.ok(name.endsWith('_seconds'), `${name}: durations in seconds`)
    assert.match(text, new RegExp(`^# HELP ${name} \\S`, 'm'))
  }
  // Node's process metrics come along (CPU, memory, event-loop delay).
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
    assert.ok(families.some((f) => f.name === name), name)
  }
  await app.close()
})

for (const backend of BACKENDS) {
  test(`request, compute and batch-shape metrics count what was served (${backend})`, async () => {
    const app = await build(backend)
    const tensors = tf.memory().numTensors
    const before = await scrape(app)
    assert.equal(metric(before, 'loss_service_info', { backend }), 1)
    assert.equal(parseMetrics(before).find((s) => s.name === 'loss_service_info')?.labels.tfjs, tf.version_core)
    assert.equal(metric(before, 'loss_service_http_requests_total', { route: '/loss/ce' }), undefined)

    for (const [n, c] of [[3, 5], [40, 5], [1, 300]] as const) {
      const res = await app.inject({ method: 'POST', url: '/loss/ce', payload: batch(n, c) })
      assert.equal(res.statusCode, 200)
    }
    const bad = await app.inject({ method: 'POST', url: '/loss/focal', payload: { logits: [[1, 'x']], labels: [0] } })
    assert.equal(bad.statusCode, 400)
    assert.equal((await app.inject('/nowhere')).statusCode, 404)

    const after = await scrape(app)
    const ok = { method: 'POST', route: '/loss/ce', status_code: '200' }
    assert.equal(metric(after, 'loss_service_http_requests_total', ok), 3)
    assert.equal(metric(after, 'loss_service_http_requests_total', { method: 'POST', route: '/loss/focal', status_code: '400' }), 1)
    assert.equal(metric(after, 'loss_service_http_requests_total', { route: 'unmatched', status_code: '404' }), 1)
    // The first scrape is counted by the time of the second.
    assert.equal(metric(after, 'loss_service_http_requests_total', { method: 'GET', route: '/metrics', status_code: '200' }), 1)
    assert.equal(metric(after, 'loss_service_http_request_duration_seconds_count', ok), 3)
    assert.ok((metric(after, 'loss_service_http_request_duration_seconds_sum', ok) ?? 0) > 0)
    assert.equal(metric(after, 'loss_service_http_request_duration_seconds_bucket', { ...ok, le: '+Inf' }), 3)

    assert.equal(metric(after, 'loss_service_compute_duration_seconds_count', { kernel: 'softmax-index' }), 3)
    assert.ok((metric(after, 'loss_service_compute_duration_seconds_sum', { kernel: 'softmax-index' }) ?? 0) > 0)
    // A bad request never reaches the engine, nor the batch histograms.
    assert.equal(metric(after, 'loss_service_batch_rows_count', { route: '/loss/focal' }), undefined)
    assert.equal(metric(after, 'loss_service_batch_rows_count', { route: '/loss/ce' }), 3)
    assert.equal(metric(after, 'loss_service_batch_rows_sum', { route: '/loss/ce' }), 44)
    assert.equal(metric(after, 'loss_service_batch_rows_bucket', { route: '/loss/ce', le: '4' }), 2)
    assert.equal(metric(after, 'loss_service_batch_classes_sum', { route: '/loss/ce' }), 310)
    assert.equal(metric(after, 'loss_service_batch_classes_bucket', { route: '/loss/ce', le: '256' }), 2)
    assert.equal(metric(after, 'loss_service_engine_plans_total'), 3)
    assert.equal(metric(after, 'loss_service_engine_kernel_calls_total'), 3)

    // Only the scrape itself is in flight; the gauges read tfjs at scrape time.
    assert.equal(metric(after, 'loss_service_http_requests_in_flight'), 1)
    assert.equal(metric(after, 'loss_service_compute_requests_in_flight'), 0)
    assert.equal(metric(after, 'loss_service_tfjs_tensors'), tf.memory().numTensors)
    assert.equal(metric(after, 'loss_service_tfjs_memory_bytes'), tf.memory().numBytes)
    assert.equal(metric(after, 'loss_service_worker_processes'), 1)
    assert.equal(tf.memory().numTensors, tensors)
    await app.close()
  })
}

test('concurrent requests merged into one kernel call show in the engine counters', async () => {
  const app = await build()
  const results = await Promise.all(Array.from({ length: 6 }, async () => await app.inject({ method: 'POST', url: '/loss/ce', payload: batch(4, 3) })))
  assert.deepEqual(results.map((r) => r.statusCode), [200, 200, 200, 200, 200, 200])
  const text = await scrape(app)
  assert.equal(metric(text, 'loss_service_engine_plans_total'), 6)
  const calls = metric(text, 'loss_service_engine_kernel_calls_total') ?? 0
  assert.ok(calls >= 1 && calls < 6, `${calls} kernel calls for 6 concurrent requests`)
  await app.close()
})

test('backend is "none" while tfjs starts', async () => {
  const config = loadConfig({ LOG_LEVEL: 'silent', TFJS_BACKEND: BACKENDS[0] })
  const app = await buildApp(config, engineFor(config))
  const text = await scrape(app)
  assert.equal(metric(text, 'loss_service_info', { backend: 'none' }), 1)
  await app.close()
})
