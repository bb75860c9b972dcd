/**
 * Batches of a run over V2 (model compare, parameters.run_id and batch_id), on SQLite and on
 * PostgreSQL: binary and JSON tensors land in the run as the JSON PUT puts them, a retry counts once
 * whichever transport sends it, the outputs are the batch's compare answer and the response's
 * parameters carry the run's progress; errors are V2's `{error}` with PUT's statuses.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { mulberry32 } from '../../scripts/lib/random.js'
import type { BackendName } from '../../src/engine/backend.js'
import { BACKENDS, storeSuiteApp } from '../helper.js'
import { postgres, sqlite, type Backend } from '../unit/store/backends.js'
import { binaryRequest, infer, jsonRequest, type Tensor } from './v2/client.js'

const C = 6
const URL = '/v2/models/compare/infer'
const OPTIONS = { gamma: 1.5, alpha: 0.5, labelSmoothing: 0.05, hardest: 3, breakdown: true }

function batch (seed: number, n: number): { logits: number[][], labels: number[] } {
  const u = mulberry32(seed)
  const logits = Array.from({ length: n }, () => Array.from({ length: C }, () => Math.fround((u() - 0.5) * 6)))
  const labels = Array.from({ length: n }, () => Math.floor(u() * C))
  return { logits, labels }
}

function tensors (b: { logits: number[][], labels: number[] }): Tensor[] {
  return [
    { name: 'logits', datatype: 'FP32', shape: [b.logits.length, C], values: b.logits.flat() },
    { name: 'labels', datatype: 'INT64', shape: [b.labels.length], values: b.labels }
  ]
}

async function call (app: FastifyInstance, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object): Promise<{ status: number, body: any }> {
  const res = await app.inject({ method, url, ...(payload === undefined ? {} : { payload }) })
  return { status: res.statusCode, body: res.json() }
}

function suite (backend: Backend, tfjs: BackendName): void {
  describe(`V2 batches of a run on ${backend.name}, ${tfjs}`, { skip: backend.skip }, () => {
    let app: FastifyInstance
    storeSuiteApp(backend, (built) => { app = built }, tfjs)

    test('binary and JSON tensors add to the run what the JSON PUT adds, with the same answer', async () => {
      const { body: viaV2 } = await call(app, 'POST', '/runs', { classes: C, ...OPTIONS })
      const { body: viaJson } = await call(app, 'POST', '/runs', { classes: C, ...OPTIONS })
      for (let i = 0; i < 4; i++) {
        const b = batch(20 + i, 8 + i)
        const parameters = { run_id: viaV2.id, batch_id: `rank${i % 2}-step${i}` }
        const request = i % 2 === 0 ? binaryRequest(URL, tensors(b), { parameters }) : jsonRequest(URL, tensors(b), { parameters, nested: true })
        const v2 = await infer(app, request)
        const put = await call(app, 'PUT', `/runs/${viaJson.id as string}/batches/rank${i % 2}-step${i}`, b)
        assert.equal(v2.status, 200, JSON.stringify(v2.header))
        assert.equal(put.status, 200)
        assert.deepEqual(v2.header.parameters, { reduction: 'mean', run_id: viaV2.id, batch_id: parameters.batch_id, run_batches: i + 1, run_rows: put.body.run.rows, replayed: false })
        for (const loss of ['ce', 'focal'] as const) {
          assert.equal(v2.outputs.get(`${loss}_sum`)?.values[0], put.body[loss].sum)
          assert.equal(v2.outputs.get(`${loss}_normalizer`)?.values[0], put.body[loss].normalizer)
          assert.deepEqual(v2.outputs.get(`${loss}_hardest_loss`)?.values, put.body[loss].hardest.map((r: { loss: number }) => r.loss))
          assert.deepEqual(v2.outputs.get(`${loss}_per_class_sum`)?.values, put.body.perClass.map((c: any) => c[loss].sum))
        }
      }
      const [a, b] = await Promise.all([call(app, 'GET', `/runs/${viaV2.id as string}`), call(app, 'GET', `/runs/${viaJson.id as string}`)])
      const strip = ({ id: _id, created: _created, ...rest }: Record<string, unknown>): unknown => rest
      // Hardest rows name their batch ids, which are the same in both runs.
      assert.deepEqual(strip(a.body), strip(b.body))
      assert.equal(a.body.batches, 4)
    })

    test('a retry counts once, across transports; another batch under the id is 409', async () => {
      const { body: run } = await call(app, 'POST', '/runs', { classes: C, ...OPTIONS })
      const b = batch(40, 10)
      const parameters = { run_id: run.id, batch_id: 'b1', binary_data_output: true }
      // The FP64 outputs, the ones the test client reads in binary.
      const outputs = ['ce_loss', 'focal_sum', 'ce_per_class_sum', 'focal_hardest_loss'].map((name) => ({ name }))
      const first = await infer(app, binaryRequest(URL, tensors(b), { parameters, outputs }))
      const again = await infer(app, binaryRequest(URL, tensors(b), { parameters, outputs }))
      assert.equal(first.status, 200)
      assert.deepEqual([...first.outputs.keys()], outputs.map((o) => o.name))
      assert.ok([...first.outputs.values()].every((o) => o.binary))
      assert.equal(again.header.parameters.replayed, true)
      assert.deepEqual({ ...again.header.parameters, replayed: false }, first.header.parameters)
      assert.deepEqual(again.outputs, first.outputs)
      const json = await call(app, 'PUT', `/runs/${run.id as string}/batches/b1`, b)
      assert.equal(json.body.replayed, true)
      const other = await infer(app, binaryRequest(URL, tensors(batch(41, 10)), { parameters }))
      assert.equal(other.status, 409)
      assert.deepEqual(other.header, { error: 'batch "b1" was already added with another body' })
      const concurrent = await Promise.all(Array.from({ length: 6 }, async () => await infer(app, binaryRequest(URL, tensors(b), { parameters: { run_id: run.id, batch_id: 'b2' } }))))
      assert.equal(concurrent.filter((r) => r.header.parameters.replayed === false).length, 1)
      const { body: totals } = await call(app, 'GET', `/runs/${run.id as string}`)
      assert.deepEqual([totals.batches, totals.rows], [2, 20])
    })

    test('errors: V2 form, the PUT statuses, the parameter named', async () => {
      const { body: run } = await call(app, 'POST', '/runs', { classes: C, gamma: 2 })
      const b = batch(50, 4)
      const cases: Array<[string, string, Record<string, string | number | boolean>, Tensor[], number, string]> = [
        ['unknown run', URL, { run_id: '0b0f5c84-0d3d-4c3b-9b7f-2a8b3f1e9c11', batch_id: 'x' }, tensors(b), 404, 'run "0b0f5c84-0d3d-4c3b-9b7f-2a8b3f1e9c11" not found'],
        ['no batch id', URL, { run_id: run.id }, tensors(b), 400, 'parameters.run_id and parameters.batch_id go together: a batch of a run needs both'],
        ['odd batch id', URL, { run_id: run.id, batch_id: 'a b' }, tensors(b), 400, 'parameters.batch_id = "a b" must be 1 to 128 of A-Z a-z 0-9 . _ : -'],
        ['numeric batch id', URL, { run_id: run.id, batch_id: 7 }, tensors(b), 400, 'parameters.batch_id = 7 must be a string'],
        ['model ce', '/v2/models/ce/infer', { run_id: run.id, batch_id: 'x' }, tensors(b), 400, 'parameters.run_id: batches are added to a run through model compare, not ce'],
        ['other gamma', URL, { run_id: run.id, batch_id: 'x', gamma: 1 }, tensors(b), 400, 'parameters.gamma = 1 does not match the run\'s gamma = 2'],
        ['other alpha', URL, { run_id: run.id, batch_id: 'x', alpha: -1 }, tensors(b), 400, 'parameters.alpha = -1 does not match the run\'s alpha = 0.25'],
        ['reduction', URL, { run_id: run.id, batch_id: 'x', reduction: 'sum' }, tensors(b), 400,
          'parameters.reduction is not a parameter of a run\'s batch; it takes run_id, batch_id and, equal to the run\'s, activation, ignore_index, label_smoothing, gamma, alpha, breakdown, hardest, class_balance_beta, losses, metrics, topk, calibration_bins, confusion, shots_many, shots_few, thresholds'],
        ['weight input', URL, { run_id: run.id, batch_id: 'x' }, [...tensors(b), { name: 'weight', datatype: 'FP32', shape: [C], values: new Array(C).fill(1) }], 400,
          'inputs[2] (weight) is the run\'s to set: a batch of a run takes the inputs logits and labels only'],
        ['other C', URL, { run_id: run.id, batch_id: 'x' }, [{ name: 'logits', datatype: 'FP32', shape: [1, 3], values: [1, 2, 3] }, { name: 'labels', datatype: 'INT64', shape: [1], values: [0] }], 400,
          'logits has 3 classes; the run has 6'],
        ['label out of range', URL, { run_id: run.id, batch_id: 'x' }, tensors({ logits: b.logits, labels: [0, 1, 9, 2] }), 400, 'labels[2] = 9 is outside [0, 6)']
      ]
      for (const [what, url, parameters, given, status, message] of cases) {
        const res = await infer(app, binaryRequest(url, given, { parameters }))
        assert.equal(res.status, status, `${what}: ${JSON.stringify(res.header)}`)
        assert.deepEqual(res.header, { error: message }, what)
      }
      assert.equal((await infer(app, binaryRequest(URL, tensors(b), { parameters: { run_id: run.id, batch_id: 'ok', gamma: 2, activation: 'softmax' } }))).status, 200)
      await call(app, 'POST', `/runs/${run.id as string}/close`)
      const late = await infer(app, binaryRequest(URL, tensors(b), { parameters: { run_id: run.id, batch_id: 'late' } }))
      assert.deepEqual([late.status, late.header], [409, { error: `run ${run.id as string} is closed: it takes no more batches` }])
      const { body: totals } = await call(app, 'GET', `/runs/${run.id as string}`)
      assert.equal(totals.batches, 1)
    })
  })
}

// CI must not go green with the PostgreSQL half silently skipped.
if (postgres.skip !== undefined && process.env.CI === 'true') {
  test('PostgreSQL is reachable under CI=true', () => { throw new Error(postgres.skip) })
}
for (const tfjs of BACKENDS) {
  suite(sqlite, tfjs)
  suite(postgres, tfjs)
}
