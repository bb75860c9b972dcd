/**
 * Overload: beyond MAX_INFLIGHT compute requests, or past the event-loop delay and memory limits,
 * requests are answered 503 with Retry-After at once; probes and /metrics keep answering.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper.js'
import { metric, postHead, RawClient } from './util.js'

const body = JSON.stringify({ logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [0, 2] })
const v2Body = {
  inputs: [
    { name: 'logits', shape: [1, 2], datatype: 'FP32', data: [2, -1] },
    { name: 'labels', shape: [1], datatype: 'INT64', data: [0] }
  ]
}
const sleep = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms))

const scrape = async (app: FastifyInstance): Promise<string> => (await app.inject('/metrics')).body

async function listening (env: NodeJS.ProcessEnv): Promise<{ app: FastifyInstance, port: number }> {
  const app = await build(undefined, env)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  return { app, port: typeof address === 'object' && address !== null ? address.port : 0 }
}

test('beyond MAX_INFLIGHT compute requests get 503 + Retry-After before their body is read', async () => {
  const { app, port } = await listening({ MAX_INFLIGHT: '2', RETRY_AFTER_S: '3' })
  const tensors = tf.memory().numTensors
  // Two requests send their headers and half their body, and hold their slots.
  const held = await Promise.all([RawClient.connect(port), RawClient.connect(port)])
  for (const c of held) c.write(postHead('/loss/ce', body.length) + body.slice(0, 20))
  const deadline = Date.now() + 5000
  while (metric(await scrape(app), 'loss_service_compute_requests_in_flight') !== 2 && Date.now() < deadline) await sleep(10)
  assert.equal(metric(await scrape(app), 'loss_service_compute_requests_in_flight'), 2)

  const rejected = await app.inject({ method: 'POST', url: '/loss/focal', payload: body, headers: { 'content-type': 'application/json' } })
  assert.equal(rejected.statusCode, 503)
  assert.equal(rejected.headers['retry-after'], '3')
  assert.deepEqual(rejected.json(), {
    statusCode: 503,
    error: 'Service Unavailable',
    message: '2 compute requests are in flight, the most this process takes (MAX_INFLIGHT); retry in 3 s'
  })
  const v2 = await app.inject({ method: 'POST', url: '/v2/models/ce/infer', payload: v2Body })
  assert.equal(v2.statusCode, 503)
  assert.equal(v2.headers['retry-after'], '3')
  assert.match(v2.json().error, /MAX_INFLIGHT/)

  // A request announcing a 50 MB body is answered at once, without sending it.
  const big = await RawClient.connect(port)
  big.write(postHead('/loss/ce', 50_000_000))
  assert.deepEqual(await big.responses(1, 2000), [503])
  assert.match(big.text, /retry-after: 3/i)
  big.socket.destroy()

  // Everything else is not compute and not limited.
  for (const url of ['/health/ready', '/info', '/v2/health/ready']) assert.equal((await app.inject(url)).statusCode, 200, url)

  for (const c of held) c.write(body.slice(20))
  for (const c of held) assert.deepEqual(await c.responses(1), [200])
  for (const c of held) c.socket.destroy()
  await Promise.all(held.map(async (c) => await c.closed))

  const after = await scrape(app)
  assert.equal(metric(after, 'loss_service_compute_requests_in_flight'), 0)
  assert.equal(metric(after, 'loss_service_overload_rejections_total', { reason: 'inflight' }), 3)
  assert.equal(metric(after, 'loss_service_http_requests_total', { route: '/loss/focal', status_code: '503' }), 1)
  assert.equal((await app.inject({ method: 'POST', url: '/loss/ce', payload: body, headers: { 'content-type': 'application/json' } })).statusCode, 200)
  assert.equal(tf.memory().numTensors, tensors)
  await app.close()
})

for (const [limit, reason, message] of [
  ['MAX_HEAP_USED_BYTES', 'heapUsedBytes', /^the server is overloaded: V8 heap use \d+ MiB is above MAX_HEAP_USED_BYTES; retry in 2 s$/],
  ['MAX_RSS_BYTES', 'rssBytes', /^the server is overloaded: resident memory \d+ MiB is above MAX_RSS_BYTES; retry in 2 s$/]
] as const) {
  test(`past ${limit} requests get 503 + Retry-After; probes and /metrics still answer`, async () => {
    const app = await build(undefined, { [limit]: '1', OVERLOAD_SAMPLE_MS: '10', RETRY_AFTER_S: '2' })
    await sleep(50)
    const res = await app.inject({ method: 'POST', url: '/loss/ce', payload: JSON.parse(body) })
    assert.equal(res.statusCode, 503)
    assert.equal(res.headers['retry-after'], '2')
    assert.match(res.json().message, message)
    assert.equal((await app.inject('/info')).statusCode, 503)
    assert.match((await app.inject({ method: 'POST', url: '/v2/models/focal/infer', payload: v2Body })).json().error, message)
    for (const url of ['/health/live', '/health/ready', '/v2/health/live', '/v2/health/ready', '/metrics']) {
      assert.equal((await app.inject(url)).statusCode, 200, url)
    }
    assert.equal(metric(await scrape(app), 'loss_service_overload_rejections_total', { reason }), 3)
    await app.close()
  })
}

test('a blocked event loop sheds requests until the delay is back under MAX_EVENT_LOOP_DELAY_MS', async () => {
  const app = await build(undefined, { MAX_EVENT_LOOP_DELAY_MS: '100', OVERLOAD_SAMPLE_MS: '100' })
  const ok = async () => (await app.inject({ method: 'POST', url: '/loss/ce', payload: JSON.parse(body) })).statusCode
  assert.equal(await ok(), 200)
  const start = Date.now()
  while (Date.now() - start < 1000);
  let shed = 0
  for (let i = 0; i < 50 && shed === 0; i++) {
    if (await ok() === 503) shed++
    else await sleep(5)
  }
  assert.equal(shed, 1, 'a request was shed after the loop was blocked for 1 s')
  assert.equal((await app.inject('/health/ready')).statusCode, 200)
  let recovered = false
  for (let i = 0; i < 100 && !recovered; i++) {
    recovered = await ok() === 200
    if (!recovered) await sleep(20)
  }
  assert.ok(recovered, 'answers again once the loop is free')
  assert.equal(metric(await scrape(app), 'loss_service_overload_rejections_total', { reason: 'eventLoopDelay' }) !== undefined, true)
  await app.close()
})
