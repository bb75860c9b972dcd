/**
 * Runs with metrics, on SQLite and PostgreSQL and every tfjs backend: the torchmetrics 1.2.0 cases
 * of test/golden/metrics.json PUT in three parts, out of order, answer GET /runs/{id} with the
 * fixture's metrics of the whole batch (sigmoid cases with their binned thresholds=K, a run's form
 * of AP and AUROC); two runs compare by b − a of their metrics and shot groups; V2 run batches answer
 * the metrics outputs of the JSON reply; the options are checked at creation and on every batch.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { fixture, type MetricsCase } from '../unit/evaluation/fixture.js'
import { flatten, materialize } from '../golden/inputs.js'
import { postgres, sqlite, type Backend } from '../unit/store/backends.js'
import { BACKENDS, storeSuiteApp } from '../helper.js'
import { compare, expectedMetrics, perClassOf, v2Metrics } from './metrics-golden.js'
import { binaryRequest, infer } from './v2/client.js'
import { shapeOf } from './v2/golden.js'

/** A run bins AP and AUROC, so its sigmoid cases are the fixture's thresholds=K ones; every softmax case. */
const CASES = fixture.cases.filter((c) => c.request.activation === 'softmax' || c.request.options?.thresholds !== undefined)

type Json = Record<string, any>

async function call (app: FastifyInstance, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object): Promise<{ status: number, body: Json }> {
  const res = await app.inject({ method, url, ...(payload === undefined ? {} : { payload }) })
  return { status: res.statusCode, body: res.json() }
}

/** The run a case's batch goes into: its activation, ignored label and metrics options. */
function runBody (c: MetricsCase): Json {
  const shape = shapeOf(materialize(c.request.logits))
  const body: Json = { classes: shape.length === 1 ? 1 : shape[1], activation: c.request.activation, metrics: true, ...c.request.options }
  if (c.request.ignoreIndex !== undefined) body.ignoreIndex = c.request.ignoreIndex
  return body
}

/** The case's rows in three parts (fewer for tiny batches), last part first. */
function parts (c: MetricsCase): Array<{ logits: unknown[], labels: unknown[] }> {
  const logits = materialize(c.request.logits) as unknown[]
  const labels = materialize(c.request.labels) as unknown[]
  const n = logits.length
  const cuts = [0, Math.floor(n / 3), Math.floor(2 * n / 3), n]
  const out = []
  for (let i = 0; i < 3; i++) {
    const [from, to] = [cuts[i] as number, cuts[i + 1] as number]
    if (to > from) out.push({ logits: logits.slice(from, to), labels: labels.slice(from, to) })
  }
  return out.reverse()
}

async function runOf (app: FastifyInstance, c: MetricsCase): Promise<Json> {
  const created = await call(app, 'POST', '/runs', runBody(c))
  assert.equal(created.status, 201, `${c.name}: ${JSON.stringify(created.body)}`)
  const { id } = created.body
  for (const [i, part] of parts(c).entries()) {
    const put = await call(app, 'PUT', `/runs/${id}/batches/p${i}`, part)
    assert.equal(put.status, 200, `${c.name} part ${i}: ${JSON.stringify(put.body).slice(0, 300)}`)
  }
  return (await call(app, 'GET', `/runs/${id}`)).body
}

const byName = (name: string): MetricsCase => fixture.cases.find((c) => c.name === name) as MetricsCase

function suite (store: Backend, backend: (typeof BACKENDS)[number]): void {
  describe(`runs with metrics on ${store.name}, ${backend}`, { skip: store.skip }, () => {
    let app: FastifyInstance
    storeSuiteApp(store, (built) => { app = built }, backend)

    test('a run of a case\'s batch in parts equals torchmetrics on the whole batch', async () => {
      assert.ok(CASES.some((c) => c.kind === 'multilabel') && CASES.some((c) => c.kind === 'binary'), 'binned sigmoid cases')
      for (const c of CASES) {
        const run = await runOf(app, c)
        const { kind, ...metrics } = run.metrics
        assert.equal(kind, c.kind, c.name)
        const want = expectedMetrics(c, run)
        if (!('reliability' in want)) delete metrics.reliability
        compare(metrics, want, `${c.name}: the run's metrics`)
        compare(perClassOf(run), c.expected.perClass, `${c.name}: the run's per-class metrics`)
      }
    })

    test('two runs compare by b − a of every metric, top-k, per-class metric and shot group', async () => {
      const a = await runOf(app, byName('softmax/index/c10'))
      const other = byName('softmax/index/c10')
      const flipped = { ...other, request: { ...other.request, logits: (materialize(other.request.logits) as number[][]).map((row) => row.map((v) => -v)) } }
      const b = await runOf(app, flipped)
      const { body } = await call(app, 'GET', `/runs/${a.id as string}/compare/${b.id as string}`)
      const d = body.difference
      for (const key of ['accuracy', 'meanClassAccuracy', 'ece', 'mce', 'rmsce', 'brier']) assert.equal(d.metrics[key], b.metrics[key] - a.metrics[key], key)
      assert.deepEqual(Object.keys(d.metrics.topk), Object.keys(a.metrics.topk))
      for (const k of Object.keys(a.metrics.topk)) assert.equal(d.metrics.topk[k], b.metrics.topk[k] - a.metrics.topk[k], `topk ${k}`)
      for (const group of ['many', 'medium', 'few']) {
        const [x, y] = [a.metrics.shots[group], b.metrics.shots[group]]
        const minus = (u: number | null, v: number | null): number | null => u === null || v === null ? null : v - u
        assert.deepEqual(d.shots[group], { accuracy: minus(x.accuracy, y.accuracy), ce: minus(x.ce, y.ce), focal: minus(x.focal, y.focal) }, group)
      }
      d.perClass.forEach((row: Json, k: number) => {
        for (const key of ['recall', 'precision', 'f1']) assert.equal(row[key], b.perClass[k][key] - a.perClass[k][key], `perClass[${k}].${key}`)
      })
      assert.ok(d.metrics.accuracy < 0, 'negated logits are less accurate')
    })

    test('a V2 batch of a run answers the metrics outputs of the JSON reply, and may repeat the run\'s options', async () => {
      const c = byName('softmax/index/c10')
      const losses = [{ loss: 'ce' }, { loss: 'focal', gamma: 2 }]
      const created = await call(app, 'POST', '/runs', { ...runBody(c), losses, topk: [1, 3], calibrationBins: 10 })
      const { id } = created.body
      const logits = materialize(c.request.logits)
      const labels = materialize(c.request.labels)
      const json = await call(app, 'PUT', `/runs/${id as string}/batches/json`, { logits, labels, topk: [1, 3] })
      assert.equal(json.status, 200, JSON.stringify(json.body).slice(0, 300))
      const v2 = (parameters: Json) => infer(app, binaryRequest('/v2/models/compare/infer', [
        { name: 'logits', datatype: 'FP32', shape: shapeOf(logits), values: flatten(logits) },
        { name: 'labels', datatype: 'INT64', shape: shapeOf(labels), values: flatten(labels) }
      ], { parameters: { run_id: id, batch_id: 'v2', ...parameters } }))
      const reply = await v2({ metrics: true, topk: '1,3', calibration_bins: 10, losses: JSON.stringify([{ loss: 'ce' }, { gamma: 2, loss: 'focal' }]) })
      assert.equal(reply.status, 200, JSON.stringify(reply.header).slice(0, 300))
      assert.deepEqual(v2Metrics(reply).metrics, json.body.metrics)
      assert.deepEqual(reply.outputs.get('focal_loss')?.values, [json.body.focal.loss])
      assert.equal(reply.header.parameters.run_batches, 2)
      const wrong = await v2({ topk: 5 })
      assert.equal(wrong.status, 400)
      assert.match(wrong.header.error, /parameters\.topk = 5 does not match the run's topk = "1,3"/)
      const run = (await call(app, 'GET', `/runs/${id as string}`)).body
      assert.equal(run.metrics.rows, 2 * json.body.metrics.rows)
      compare(run.metrics.accuracy, json.body.metrics.accuracy, 'twice the batch: the same accuracy')
    })

    test('metrics options are checked at creation and must match on every batch', async () => {
      const refused = async (body: Json, message: RegExp): Promise<void> => {
        const res = await call(app, 'POST', '/runs', body)
        assert.equal(res.status, 400, JSON.stringify(res.body))
        assert.match(res.body.message, message)
      }
      await refused({ classes: 10, thresholds: 50 }, /thresholds needs metrics: true/)
      await refused({ classes: 10, metrics: true, thresholds: 1 }, /thresholds/)
      await refused({ classes: 10, metrics: true, thresholds: 20000 }, /thresholds/)
      await refused({ classes: 10, metrics: true, topk: [1, 11] }, /topk\[1\] = 11 is outside \[1, 10\]/)
      await refused({ classes: 10, metrics: true, shots: { counts: [1, 2] } }, /shots\.counts has 2 values, expected 10/)
      await refused({ classes: 10, topk: [1] }, /topk needs metrics: true/)
      const { body } = await call(app, 'POST', '/runs', { classes: 3, metrics: true, topk: [1, 2] })
      const batch = { logits: [[1, 2, 3], [3, 2, 1]], labels: [2, 1] }
      const same = await call(app, 'PUT', `/runs/${body.id as string}/batches/a`, { ...batch, metrics: true, topk: [1, 2] })
      assert.equal(same.status, 200, JSON.stringify(same.body))
      const other = await call(app, 'PUT', `/runs/${body.id as string}/batches/b`, { ...batch, topk: [1] })
      assert.equal(other.status, 400)
      assert.match(other.body.message, /topk = \[1\] does not match the run's topk = \[1,2\]/)
      assert.equal((await call(app, 'GET', `/runs/${body.id as string}`)).body.batches, 1)
    })
  })
}

for (const backend of BACKENDS) {
  suite(sqlite, backend)
  suite(postgres, backend)
}
