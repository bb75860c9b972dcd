/**
 * Slow and stalled clients are cut off by the server's timeouts and leave nothing behind: no
 * tensor, no compute slot, no in-flight request.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper.js'
import { metric, postHead, RawClient } from './util.js'

const REQUEST_MS = 600
const HEADERS_MS = 300
const KEEP_ALIVE_MS = 400
/** Node checks the timeouts every HEADERS_MS / 4 here; the rest is scheduling on a busy machine. */
const SLACK_MS = 700

const body = JSON.stringify({ logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [0, 2] })

let app: FastifyInstance
let port = 0
let tensors = 0

before(async () => {
  app = await build(undefined, { REQUEST_TIMEOUT_MS: String(REQUEST_MS), HEADERS_TIMEOUT_MS: String(HEADERS_MS), KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  port = typeof address === 'object' && address !== null ? address.port : 0
  tensors = tf.memory().numTensors
})

after(async () => {
  await app.close()
})

const scrape = async (): Promise<string> => (await app.inject('/metrics')).body

test('a client that sends half a body and stalls is cut off at REQUEST_TIMEOUT_MS', async (t) => {
  const client = await RawClient.connect(port)
  client.write(postHead('/loss/ce', body.length) + body.slice(0, body.length / 2))
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.equal(metric(await scrape(), 'loss_service_compute_requests_in_flight'), 1)
  const openMs = await client.closed
  t.diagnostic(`closed after ${openMs} ms`)
  assert.ok(openMs >= REQUEST_MS - 50 && openMs < REQUEST_MS + SLACK_MS, `closed after ${openMs} ms`)
  assert.deepEqual(client.statuses, [408])

  const text = await scrape()
  assert.equal(metric(text, 'loss_service_compute_requests_in_flight'), 0)
  assert.equal(metric(text, 'loss_service_http_requests_in_flight'), 1)
  assert.equal(metric(text, 'loss_service_http_requests_aborted_total', { route: '/loss/ce' }), 1)
  assert.equal(tf.memory().numTensors, tensors)
})

test('a client that trickles its body is cut off too: the timeout is for the whole request', async (t) => {
  const client = await RawClient.connect(port)
  client.write(postHead('/loss/ce', body.length))
  let sent = 0
  const timer = setInterval(() => {
    if (sent < body.length && !client.socket.destroyed) client.write(body[sent++] ?? '')
  }, 50)
  const openMs = await client.closed
  t.diagnostic(`closed after ${openMs} ms`)
  clearInterval(timer)
  assert.ok(sent < body.length, 'the body was not complete')
  assert.ok(openMs >= REQUEST_MS - 50 && openMs < REQUEST_MS + SLACK_MS, `closed after ${openMs} ms`)
})

test('a client that stops within its headers is cut off at HEADERS_TIMEOUT_MS', async (t) => {
  const client = await RawClient.connect(port)
  client.write('POST /loss/ce HTTP/1.1\r\nHost: localhost\r\nContent-Ty')
  const openMs = await client.closed
  t.diagnostic(`closed after ${openMs} ms`)
  assert.ok(openMs >= HEADERS_MS - 50 && openMs < HEADERS_MS + SLACK_MS, `closed after ${openMs} ms`)
})

test('a client that connects and sends nothing is cut off at HEADERS_TIMEOUT_MS', async (t) => {
  const client = await RawClient.connect(port)
  const openMs = await client.closed
  t.diagnostic(`closed after ${openMs} ms`)
  assert.ok(openMs < HEADERS_MS + SLACK_MS, `closed after ${openMs} ms`)
})

test('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS', async (t) => {
  const client = await RawClient.connect(port)
  client.write(postHead('/loss/ce', body.length) + body)
  assert.deepEqual(await client.responses(1), [200])
  const answered = Date.now()
  assert.match(client.text, /keep-alive: timeout=\d+/i)
  await client.closed
  const idleMs = Date.now() - answered
  t.diagnostic(`closed ${idleMs} ms after the answer`)
  // Node keeps the socket up to a second longer than it announces, so the client closes first.
  assert.ok(idleMs >= KEEP_ALIVE_MS - 50 && idleMs < KEEP_ALIVE_MS + 1000 + SLACK_MS, `closed ${idleMs} ms after the answer`)
})

test('after all that the server answers as usual and holds nothing', async () => {
  const client = await RawClient.connect(port)
  client.write(postHead('/loss/ce', body.length) + body)
  assert.deepEqual(await client.responses(1), [200])
  assert.match(client.text, /"normalizer":2/)
  client.socket.destroy()
  await client.closed
  const text = await scrape()
  assert.equal(metric(text, 'loss_service_compute_requests_in_flight'), 0)
  assert.equal(metric(text, 'loss_service_http_requests_in_flight'), 1)
  assert.equal(tf.memory().numTensors, tensors)
})
