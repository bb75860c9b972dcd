/**
 * Request ids: a caller's plain x-request-id is kept, anything else replaced by a UUID; the id is
 * echoed on every answer (errors included) and carried by every log line of the request.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildLogged } from './util.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const body = { logits: [[2, -1, 0.5]], labels: [0] }

test('a plain x-request-id is echoed and carried by the request\'s log lines', async () => {
  const { app, lines } = await buildLogged({ LOG_LEVEL: 'info' })
  for (const id of ['trace-1', 'a.b:c-d_e', 'x'.repeat(128), '0af7651916cd43dd8448eb211c80319c']) {
    const res = await app.inject({ method: 'POST', url: '/loss/ce', payload: body, headers: { 'x-request-id': id } })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['x-request-id'], id)
    const mine = lines().filter((l) => l.reqId === id)
    assert.equal(mine.length, 1, id)
    assert.equal(mine[0]?.msg, 'request completed')
    assert.equal(mine[0]?.route, '/loss/ce')
    assert.deepEqual(mine[0]?.shape, [1, 3])
  }
  await app.close()
})

test('a missing, long or unusual x-request-id is replaced by a fresh UUID', async () => {
  const { app, lines } = await buildLogged({ LOG_LEVEL: 'info' })
  const seen = new Set<string>()
  for (const id of [undefined, '', 'x'.repeat(129), 'has space', 'semi;colon', 'new\u2028line', '<script>', 'ü']) {
    const res = await app.inject({ method: 'POST', url: '/loss/ce', payload: body, headers: id === undefined ? {} : { 'x-request-id': id } })
    assert.equal(res.statusCode, 200)
    const given = String(res.headers['x-request-id'])
    assert.match(given, UUID, JSON.stringify(id))
    assert.ok(!seen.has(given))
    seen.add(given)
    assert.equal(lines().filter((l) => l.reqId === given).length, 1)
  }
  await app.close()
})

test('error answers carry the id too, in the header and in their log lines', async () => {
  const { app, lines } = await buildLogged({ LOG_LEVEL: 'info' })
  const cases = [
    { method: 'POST' as const, url: '/loss/ce', payload: { logits: [[1, 'x']], labels: [0] }, status: 400 },
    { method: 'POST' as const, url: '/v2/models/ce/infer', payload: { inputs: 'nope' }, status: 400 },
    { method: 'GET' as const, url: '/no/such/route', status: 404 },
    { method: 'POST' as const, url: '/loss/ce', payload: '{"logits": [[1]', status: 400 }
  ]
  for (const [i, c] of cases.entries()) {
    const id = `err-${i}`
    const res = await app.inject({ method: c.method, url: c.url, headers: { 'x-request-id': id, 'content-type': 'application/json' }, ...(c.payload === undefined ? {} : { payload: c.payload }) })
    assert.equal(res.statusCode, c.status, c.url)
    assert.equal(res.headers['x-request-id'], id)
    const mine = lines().filter((l) => l.reqId === id)
    assert.ok(mine.some((l) => l.msg === 'request completed' && l.statusCode === c.status), `${id}: ${JSON.stringify(mine)}`)
  }
  assert.ok(lines().some((l) => l.reqId === 'err-0' && l.msg === 'request rejected' && /logits\[0\]\[1\]/.test(String(l.reason))))
  await app.close()
})
