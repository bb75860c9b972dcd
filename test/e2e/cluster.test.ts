/**
 * WORKERS > 1: whichever worker a scrape reaches, /metrics shows the sum over all workers, so the
 * counters Prometheus sees only ever grow.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { metric, startServer } from './util.js'

const body = JSON.stringify({ logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [0, 2] })

/** One request on its own connection, so that the cluster spreads them over the workers. */
async function request (port: number, method: string, path: string, payload?: string): Promise<{ status: number, text: string }> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: payload === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end(payload)
  })
}

test('with two workers every scrape sums both workers\' metrics', async (t) => {
  const server = await startServer({ WORKERS: '2' })
  try {
    // Readiness answered by one worker; wait until both answer (each logs its backend).
    const deadline = Date.now() + 60_000
    while (server.logs.filter((l) => l.includes('"tfjs backend')).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))

    const results = await Promise.all(Array.from({ length: 24 }, async () => await request(server.port, 'POST', '/loss/ce', body)))
    assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]))
    const byPid = new Map<number, number>()
    for (const line of server.logs) {
      const l = JSON.parse(line) as { msg: string, route?: string, pid: number }
      if (l.msg === 'request completed' && l.route === '/loss/ce') byPid.set(l.pid, (byPid.get(l.pid) ?? 0) + 1)
    }
    t.diagnostic(`requests per worker: ${[...byPid.values()].join(', ')}`)
    assert.equal(byPid.size, 2, 'both workers served requests')

    for (let scrape = 0; scrape < 6; scrape++) {
      const res = await request(server.port, 'GET', '/metrics')
      assert.equal(res.status, 200)
      assert.equal(metric(res.text, 'loss_service_worker_processes'), 2)
      assert.equal(metric(res.text, 'loss_service_http_requests_total', { method: 'POST', route: '/loss/ce', status_code: '200' }), 24)
      assert.equal(metric(res.text, 'loss_service_http_request_duration_seconds_count', { method: 'POST', route: '/loss/ce', status_code: '200' }), 24)
      assert.equal(metric(res.text, 'loss_service_batch_rows_sum', { route: '/loss/ce' }), 48)
      assert.equal(metric(res.text, 'loss_service_engine_plans_total'), 24)
      assert.equal(metric(res.text, 'loss_service_info'), 1)
      // Earlier scrapes, answered by either worker, are counted once each.
      assert.equal(metric(res.text, 'loss_service_http_requests_total', { route: '/metrics' }), scrape === 0 ? undefined : scrape)
    }
    server.child.kill('SIGTERM')
    assert.deepEqual(await server.exited, { code: 0, signal: null })
  } finally {
    server.child.kill('SIGKILL')
  }
})
