/**
 * The runs in operations: /metrics counts batches by outcome and reason (JSON and V2 alike), shows
 * the open runs and times the store; /health/ready names the store it checked.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { BACKENDS, build } from '../helper.js'
import { metric } from '../e2e/util.js'
import { binaryRequest } from './v2/client.js'

let app: FastifyInstance
before(async () => { app = await build(BACKENDS[0], { API_TOKEN: 'secret', BODY_LIMIT: '2048' }) })
after(async () => { await app.close() })

const auth = { authorization: 'Bearer secret' }
const b = { logits: [[1, 2, 3], [0, 0, 1]], labels: [2, 0] }

async function put (url: string, payload: object, headers: Record<string, string> = auth): Promise<number> {
  return (await app.inject({ method: 'PUT', url, payload, headers })).statusCode
}

test('batches by outcome and reason, open runs, store latency', async () => {
  const create = async (): Promise<string> => (await app.inject({ method: 'POST', url: '/runs', payload: { classes: 3 }, headers: auth })).json().id
  const [id, closed] = [await create(), await create()]
  await app.inject({ method: 'POST', url: `/runs/${closed}/close`, headers: auth })
  const v2 = binaryRequest('/v2/models/compare/infer', [
    { name: 'logits', datatype: 'FP32', shape: [2, 3], values: b.logits.flat() },
    { name: 'labels', datatype: 'INT32', shape: [2], values: b.labels }
  ], { parameters: { run_id: id, batch_id: 'v2' }, headers: auth })
  const statuses = [
    await put(`/runs/${id}/batches/a`, b),
    await put(`/runs/${id}/batches/a`, b),
    await put(`/runs/${id}/batches/a`, { ...b, labels: [1, 1] }),
    await put(`/runs/${closed}/batches/a`, b),
    await put(`/runs/${id}/batches/b`, { logits: [[1, 2]], labels: [0] }),
    await put(`/runs/${id}/batches/b`, { logits: [[1, 2, 3]], labels: [0], gama: 2 }),
    await put('/runs/0b0f5c84-0d3d-4c3b-9b7f-2a8b3f1e9c11/batches/b', b),
    await put(`/runs/${id}/batches/b`, { logits: Array.from({ length: 500 }, () => [1, 2, 3]), labels: new Array(500).fill(0) }),
    await put(`/runs/${id}/batches/b`, b, {}),
    (await app.inject(v2)).statusCode
  ]
  assert.deepEqual(statuses, [200, 200, 409, 409, 400, 400, 404, 413, 401, 200])
  // A V2 request without a run is no run batch.
  await app.inject({ method: 'POST', url: '/loss/compare', payload: b, headers: auth })

  const text = (await app.inject('/metrics')).body
  const count = (labels: Record<string, string>): number | undefined => metric(text, 'loss_service_run_batches_total', labels)
  assert.equal(count({ outcome: 'accepted' }), 2)
  assert.equal(count({ outcome: 'replayed' }), 1)
  for (const [reason, n] of [['conflict', 1], ['closed', 1], ['invalid', 2], ['not_found', 1], ['too_large', 1], ['unauthorized', 1]] as const) {
    assert.equal(count({ outcome: 'rejected', reason }), n, reason)
  }
  assert.equal(metric(text, 'loss_service_runs_open'), 1)
  // Two accepted and one replayed batch: three putBatch transactions that answered; the conflict and the closed run two more.
  assert.equal(metric(text, 'loss_service_run_store_duration_seconds_count', { operation: 'putBatch', outcome: 'ok' }), 5)
  assert.equal(metric(text, 'loss_service_run_store_duration_seconds_count', { operation: 'migrate', outcome: 'ok' }), 1)
})

test('readiness names the store it checked', async () => {
  const res = await app.inject('/health/ready')
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { status: 'ready', store: { status: 'ok', dialect: 'sqlite' } })
})
