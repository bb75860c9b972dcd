/**
 * SIGTERM under load, on the real server process: readiness turns 503 while requests are still
 * served for DRAIN_DELAY_MS, requests already received finish with 200, then new connections are
 * refused, and the process exits 0.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { metric, postHead, RawClient, startServer } from './util.js'

const rows = Array.from({ length: 64 }, (_, i) => Array.from({ length: 10 }, (_, j) => Math.cos(i + j)))
const body = JSON.stringify({ logits: rows, labels: rows.map((_, i) => i % 10) })

test('SIGTERM mid-load: every received request succeeds, readiness goes 503, exit code 0', async (t) => {
  const server = await startServer({ WORKERS: '1', SHUTDOWN_GRACE_MS: '10000', DRAIN_DELAY_MS: '600' })
  const url = `http://127.0.0.1:${server.port}`
  try {
    // Some requests are done before the signal...
    const early = await Promise.all(Array.from({ length: 4 }, async () => await fetch(`${url}/loss/ce`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })))
    assert.deepEqual(early.map((r) => r.status), [200, 200, 200, 200])

    // ...others are half-sent when it arrives, and so is a readiness probe (all but its last CRLF): a
    // connection in the middle of a request is not idle, so shutdown keeps it open.
    const inFlight = await Promise.all(Array.from({ length: 8 }, async () => await RawClient.connect(server.port)))
    for (const c of inFlight) c.write(postHead('/loss/ce', body.length) + body.slice(0, 1000))
    const probe = await RawClient.connect(server.port)
    probe.write('GET /health/ready HTTP/1.1\r\nHost: localhost\r\n')
    const deadline = Date.now() + 10_000
    let seen: number | undefined
    while (Date.now() < deadline) {
      seen = metric(await (await fetch(`${url}/metrics`)).text(), 'loss_service_compute_requests_in_flight')
      if (seen === 8) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.equal(seen, 8, 'all eight requests reached the server before the signal')

    const signalled = Date.now()
    server.child.kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 150))
    const draining = await fetch(`${url}/health/ready`)
    assert.equal(draining.status, 503, 'readiness fails first, on a new connection')
    assert.deepEqual(await draining.json(), { status: 'draining' })
    const served = await fetch(`${url}/loss/ce`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    assert.equal(served.status, 200, 'requests are still served during the drain delay')
    await new Promise((resolve) => setTimeout(resolve, 700))
    await assert.rejects(fetch(`${url}/health/ready`), 'new connections are refused after the drain delay')

    for (const c of inFlight) c.write(body.slice(1000))
    probe.write('\r\n')
    assert.deepEqual(await probe.responses(1), [503], probe.text)
    // The clients keep their connections open, as keep-alive clients do: the server must end them.
    for (const c of inFlight) {
      assert.deepEqual(await c.responses(1), [200])
      assert.match(c.text, /connection: close/i)
      assert.match(c.text, /"normalizer":64/)
    }

    const { code, signal } = await server.exited
    t.diagnostic(`exited ${Date.now() - signalled} ms after SIGTERM`)
    assert.equal(signal, null)
    assert.equal(code, 0)
    const lines = server.logs.map((l) => JSON.parse(l) as { msg: string, route?: string, statusCode?: number })
    assert.ok(lines.some((l) => l.msg === 'shutting down: readiness is 503, finishing in-flight requests'))
    assert.equal(lines.at(-1)?.msg, 'closed')
    assert.equal(lines.filter((l) => l.msg === 'request completed' && l.route === '/loss/ce' && l.statusCode === 200).length, 4 + 8 + 1)
  } finally {
    server.child.kill('SIGKILL')
  }
})
