/**
 * Runs with a `losses` list, on SQLite and on PostgreSQL: each loss's totals under its name equal
 * /loss/compare with the same list on the concatenation, per class too; two runs compare on the
 * names they share; a reserved or repeated name is refused at creation, naming the entry.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { mulberry32 } from '../../scripts/lib/random.js'
import type { BackendName } from '../../src/engine/backend.js'
import { BACKENDS, storeSuiteApp } from '../helper.js'
import { postgres, sqlite, type Backend } from '../unit/store/backends.js'

const C = 6
const LOSSES = [{ loss: 'ce' }, { loss: 'focal', gamma: 2 }, { loss: 'poly', epsilon: 1, name: 'poly1' }]

function batch (seed: number, n: number): { logits: number[][], labels: number[] } {
  const u = mulberry32(seed)
  const logits = Array.from({ length: n }, () => Array.from({ length: C }, () => Math.fround((u() - 0.5) * 6)))
  const labels = Array.from({ length: n }, (_, i) => i % 11 === 3 ? -100 : Math.floor(u() * C))
  return { logits, labels }
}

const close = (a: number, b: number, what: string): void => {
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`)
}

async function json (app: FastifyInstance, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object): Promise<{ status: number, body: any }> {
  const res = await app.inject({ method, url, ...(payload === undefined ? {} : { payload }) })
  return { status: res.statusCode, body: res.json() }
}

function suite (backend: Backend, tfjs: BackendName): void {
  describe(`runs with losses on ${backend.name}, ${tfjs}`, { skip: backend.skip }, () => {
    let app: FastifyInstance
    storeSuiteApp(backend, (built) => { app = built }, tfjs)

    test('each named loss equals /loss/compare with losses on the concatenation', async () => {
      const whole = batch(5, 40)
      const expected = (await json(app, 'POST', '/loss/compare', { ...whole, losses: LOSSES, breakdown: true })).body
      const created = await json(app, 'POST', '/runs', { classes: C, losses: LOSSES })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      assert.deepEqual(created.body.losses, ['ce', 'focal', 'poly1'])
      const { id } = created.body
      for (const [i, at] of [[0, 13], [13, 40]].entries()) {
        const [from, to] = at as [number, number]
        const part = { logits: whole.logits.slice(from, to), labels: whole.labels.slice(from, to) }
        const put = await json(app, 'PUT', `/runs/${id}/batches/b${i}`, part)
        assert.equal(put.status, 200, JSON.stringify(put.body))
      }
      const run = (await json(app, 'GET', `/runs/${id}`)).body
      for (const name of ['ce', 'focal', 'poly1']) {
        close(run[name].sum, expected[name].sum, `${name}.sum`)
        close(run[name].normalizer, expected[name].normalizer, `${name}.normalizer`)
        run.perClass.forEach((row: any, c: number) => close(row[name].sum, expected.perClass[c][name].sum, `perClass[${c}].${name}.sum`))
      }

      const other = (await json(app, 'POST', '/runs', { classes: C, losses: [{ loss: 'poly', epsilon: 1, name: 'poly1' }] })).body
      const alone = await json(app, 'PUT', `/runs/${other.id}/batches/all`, whole)
      assert.equal(alone.status, 200, JSON.stringify(alone.body))
      assert.deepEqual(Object.keys(alone.body).sort(), ['poly1', 'replayed', 'run'])
      close(alone.body.poly1.loss, expected.poly1.loss, 'the batch answer of a run without ce and focal: poly1.loss')
      const compared = (await json(app, 'GET', `/runs/${id}/compare/${other.id}`)).body
      assert.deepEqual(Object.keys(compared.difference).sort(), ['perClass', 'poly1'])
      close(compared.difference.poly1, 0, 'difference.poly1')
    })

    test('a V2 batch answers <name>_<field> outputs equal to JSON, and the reduction its losses use', async () => {
      const losses = [{ loss: 'asymmetric' }, { loss: 'focal' }]
      const part = { logits: [[1, 2, 3, 0, 0, 1], [0, 0, 1, 2, -1, 0]], labels: [2, 0] }
      const run = (await json(app, 'POST', '/runs', { classes: C, activation: 'sigmoid', losses })).body
      const res = await app.inject({
        method: 'POST',
        url: '/v2/models/compare/infer',
        payload: {
          parameters: { run_id: run.id, batch_id: 'v2' },
          inputs: [{ name: 'logits', datatype: 'FP32', shape: [2, C], data: part.logits.flat() }, { name: 'labels', datatype: 'INT32', shape: [2], data: part.labels }]
        }
      })
      assert.equal(res.statusCode, 200, res.body)
      const v2 = res.json()
      assert.equal(v2.parameters.reduction, 'sum')
      const expected = (await json(app, 'POST', '/loss/compare', { ...part, activation: 'sigmoid', losses })).body
      const out = (name: string): number => v2.outputs.find((o: { name: string }) => o.name === name).data[0]
      for (const name of ['asymmetric', 'focal']) {
        close(out(`${name}_loss`), expected[name].loss, `${name}_loss`)
        close(out(`${name}_sum`), expected[name].sum, `${name}_sum`)
      }
    })

    test('reserved and repeated names are refused at creation', async () => {
      const reserved = await json(app, 'POST', '/runs', { classes: C, losses: [{ loss: 'ce', name: 'status' }] })
      assert.equal(reserved.status, 400)
      assert.match(reserved.body.message, /^losses\[0\]\.name = "status" is reserved in a run/)
      const repeated = await json(app, 'POST', '/runs', { classes: C, losses: [{ loss: 'ce' }, { loss: 'ce' }] })
      assert.equal(repeated.status, 400)
      assert.match(repeated.body.message, /losses\[1\]\.name = "ce" is also the name of losses\[0\]/)
    })
  })
}

for (const tfjs of BACKENDS) {
  suite(sqlite, tfjs)
  suite(postgres, tfjs)
}
