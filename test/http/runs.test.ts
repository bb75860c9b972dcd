/**
 * Evaluation runs over HTTP, on SQLite and on PostgreSQL: a run's totals equal /loss/compare on the
 * concatenation of its batches, whatever the split and the arrival order; retries count once; the
 * API's errors name what is wrong.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { mulberry32 } from '../../scripts/lib/random.js'
import { BACKENDS, storeSuiteApp } from '../helper.js'
import { postgres, sqlite, type Backend } from '../unit/store/backends.js'

const C = 10

/** A seeded batch: logits [n][C] and class indices, a few rows ignored (-100). */
function batch (seed: number, n: number): { logits: number[][], labels: number[] } {
  const u = mulberry32(seed)
  const logits = Array.from({ length: n }, () => Array.from({ length: C }, () => Math.fround((u() - 0.5) * 8)))
  const labels = Array.from({ length: n }, (_, i) => i % 17 === 5 ? -100 : Math.floor(u() * (C - 1)))
  return { logits, labels }
}

const close = (a: number, b: number, what: string): void => {
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`)
}

async function json (app: FastifyInstance, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object): Promise<{ status: number, body: any }> {
  const res = await app.inject({ method, url, ...(payload === undefined ? {} : { payload }) })
  return { status: res.statusCode, body: res.body === '' ? undefined : res.json() }
}

const OPTIONS = { gamma: 2, alpha: 0.25, labelSmoothing: 0.1, weight: [1, 2, 1, 1, 3, 1, 1, 0.5, 1, 1], hardest: 5 }

function suite (backend: Backend): void {
  describe(`runs on ${backend.name}`, { skip: backend.skip }, () => {
    let app: FastifyInstance
    storeSuiteApp(backend, (built) => { app = built }, BACKENDS[0], { MAX_RUNS: '20' })

    test('a run equals /loss/compare on the concatenation, for any split and arrival order', async () => {
      const whole = batch(7, 96)
      const expected = await json(app, 'POST', '/loss/compare', { ...whole, ...OPTIONS, breakdown: true })
      assert.equal(expected.status, 200)
      const u = mulberry32(3)
      for (const parts of [1, 3, 8]) {
        const created = await json(app, 'POST', '/runs', { classes: C, name: `split into ${parts}`, metadata: { parts }, ...OPTIONS })
        assert.equal(created.status, 201, JSON.stringify(created.body))
        const { id } = created.body
        const cuts = [0, ...Array.from({ length: parts - 1 }, () => 1 + Math.floor(u() * 94)).sort((a, b) => a - b), 96]
        const puts = cuts.slice(1).map((end, i) => ({ batchId: `rank${i % 2}-step${i}`, logits: whole.logits.slice(cuts[i], end), labels: whole.labels.slice(cuts[i], end) }))
          .filter((p) => p.logits.length > 0)
        const answers = await Promise.all(puts.reverse().map(async ({ batchId, ...b }) => await json(app, 'PUT', `/runs/${id}/batches/${batchId}`, b)))
        for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body))
        const run = await json(app, 'GET', `/runs/${id}`)
        assert.equal(run.status, 200)
        assert.equal(run.body.batches, puts.length)
        assert.equal(run.body.rows, 96)
        assert.deepEqual(run.body.metadata, { parts })
        for (const loss of ['ce', 'focal'] as const) {
          close(run.body[loss].sum, expected.body[loss].sum, `${loss}.sum, ${parts} parts`)
          close(run.body[loss].normalizer, expected.body[loss].normalizer, `${loss}.normalizer`)
          close(run.body[loss].loss, expected.body[loss].loss, `${loss}.loss`)
          assert.deepEqual(run.body.hardest[loss].map((r: { loss: number }) => r.loss), expected.body[loss].hardest.map((r: { loss: number }) => r.loss))
        }
        run.body.perClass.forEach((c: any, k: number) => {
          const e = expected.body.perClass[k]
          assert.equal(c.count, e.count)
          close(c.ce.sum, e.ce.sum, `class ${k} ce`)
          close(c.focal.sum, e.focal.sum, `class ${k} focal`)
        })
        assert.equal((await json(app, 'DELETE', `/runs/${id as string}`)).status, 204)
      }
    })

    test('a retried batch is answered the same and counted once; another body under its id is 409', async () => {
      const { body: run } = await json(app, 'POST', '/runs', { classes: C, ...OPTIONS })
      const b = batch(11, 16)
      const first = await json(app, 'PUT', `/runs/${run.id}/batches/b1`, b)
      const again = await json(app, 'PUT', `/runs/${run.id}/batches/b1`, b)
      assert.equal(first.status, 200)
      assert.equal(first.body.replayed, false)
      assert.equal(again.body.replayed, true)
      assert.deepEqual({ ...again.body, replayed: false }, first.body)
      const other = await json(app, 'PUT', `/runs/${run.id}/batches/b1`, batch(12, 16))
      assert.equal(other.status, 409)
      assert.equal(other.body.message, 'batch "b1" was already added with another body')
      const concurrent = await Promise.all(Array.from({ length: 8 }, async () => await json(app, 'PUT', `/runs/${run.id}/batches/b2`, b)))
      assert.equal(concurrent.filter((a) => a.body.replayed === false).length, 1)
      const { body: after } = await json(app, 'GET', `/runs/${run.id}`)
      assert.equal(after.batches, 2)
      assert.equal(after.rows, 32)
      close(after.ce.sum, 2 * first.body.ce.sum, 'ce.sum of two equal batches')
      await json(app, 'DELETE', `/runs/${run.id as string}`)
    })

    test('close, list, delete', async () => {
      const { body: oldest } = await json(app, 'POST', '/runs', { classes: C, name: 'oldest' })
      const { body: older } = await json(app, 'POST', '/runs', { classes: C, name: 'older' })
      const { body: run } = await json(app, 'POST', '/runs', { classes: C, name: 'to close' })
      const put = await json(app, 'PUT', `/runs/${run.id}/batches/a`, batch(1, 4))
      assert.equal(put.status, 200, JSON.stringify(put.body))
      const closed = await json(app, 'POST', `/runs/${run.id}/close`)
      assert.equal(closed.body.status, 'closed')
      const late = await json(app, 'PUT', `/runs/${run.id}/batches/b`, batch(2, 4))
      assert.equal(late.status, 409)
      assert.equal(late.body.message, `run ${run.id} is closed: it takes no more batches`)
      const list = await json(app, 'GET', '/runs?limit=2')
      assert.equal(list.status, 200)
      assert.equal(list.body.runs[0].id, run.id)
      assert.equal(list.body.runs.length, 2)
      assert.equal(typeof list.body.next, 'string')
      const next = await json(app, 'GET', `/runs?limit=2&cursor=${encodeURIComponent(list.body.next as string)}`)
      assert.ok(!next.body.runs.some((r: { id: string }) => r.id === run.id))
      assert.equal(list.body.runs[1].id, older.id)
      assert.equal(next.body.runs[0].id, oldest.id)
      for (const id of [run.id, older.id, oldest.id]) assert.equal((await json(app, 'DELETE', `/runs/${id as string}`)).status, 204)
      assert.equal((await json(app, 'GET', `/runs/${run.id}`)).status, 404)
    })

    test('two runs compared: totals and per-class differences', async () => {
      const b = batch(5, 32)
      const { body: ce } = await json(app, 'POST', '/runs', { classes: C, gamma: 0, alpha: null })
      const { body: focal } = await json(app, 'POST', '/runs', { classes: C, gamma: 2 })
      await json(app, 'PUT', `/runs/${ce.id}/batches/x`, b)
      await json(app, 'PUT', `/runs/${focal.id}/batches/x`, b)
      const { status, body } = await json(app, 'GET', `/runs/${ce.id}/compare/${focal.id}`)
      assert.equal(status, 200)
      close(body.difference.focal, body.b.focal.loss - body.a.focal.loss, 'difference')
      assert.equal(body.difference.perClass.length, C)
      for (const id of [ce.id, focal.id]) await json(app, 'DELETE', `/runs/${id}`)
    })

    test('bad input names what is wrong', async () => {
      const { body: run } = await json(app, 'POST', '/runs', { classes: C, gamma: 2 })
      const cases: Array<[string, 'GET' | 'POST' | 'PUT', string, object | undefined, number, string]> = [
        ['unknown run', 'GET', '/runs/0b0f5c84-0d3d-4c3b-9b7f-2a8b3f1e9c11', undefined, 404, 'run "0b0f5c84-0d3d-4c3b-9b7f-2a8b3f1e9c11" not found'],
        ['odd batch id', 'PUT', `/runs/${run.id}/batches/a%20b`, batch(1, 2), 400, 'batchId = "a b" must be 1 to 128 of A-Z a-z 0-9 . _ : -'],
        ['long batch id', 'PUT', `/runs/${run.id}/batches/${'x'.repeat(129)}`, batch(1, 2), 400, `batchId = "${'x'.repeat(40)}…" must be 1 to 128 of A-Z a-z 0-9 . _ : -`],
        ['other C', 'PUT', `/runs/${run.id}/batches/c`, { logits: [[1, 2, 3]], labels: [0] }, 400, 'logits has 3 classes; the run has 10'],
        ['other option', 'PUT', `/runs/${run.id}/batches/c`, { ...batch(1, 2), gamma: 1 }, 400, 'gamma = 1 does not match the run\'s gamma = 2'],
        ['bad option at creation', 'POST', '/runs', { classes: C, weight: [1, 2] }, 400, 'weight has 2 values, expected 10 (one per class)'],
        ['classes', 'POST', '/runs', { classes: 0 }, 400, 'classes = 0 must be >= 1'],
        ['metadata too large', 'POST', '/runs', { classes: C, metadata: { notes: 'x'.repeat(5000) } }, 400, 'metadata is 5012 bytes as JSON; the limit is 4096']
      ]
      for (const [what, method, url, payload, status, message] of cases) {
        const res = await json(app, method, url, payload)
        assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`)
        assert.equal(res.body.message, message, what)
      }
      assert.equal((await json(app, 'PUT', `/runs/${run.id}/batches/ok`, batch(1, 2))).status, 200)
      await json(app, 'DELETE', `/runs/${run.id as string}`)
    })

    test('MAX_RUNS open runs at most', async () => {
      const open: string[] = []
      for (;;) {
        const res = await json(app, 'POST', '/runs', { classes: 2 })
        if (res.status !== 201) {
          assert.equal(res.status, 409)
          assert.equal(res.body.message, '20 runs are open, as many as MAX_RUNS allows: close or delete one first')
          break
        }
        open.push(res.body.id)
      }
      for (const id of open) await json(app, 'DELETE', `/runs/${id}`)
    })
  })
}

// CI must not go green with the PostgreSQL half silently skipped.
if (postgres.skip !== undefined && process.env.CI === 'true') {
  test('PostgreSQL is reachable under CI=true', () => { throw new Error(postgres.skip) })
}
suite(sqlite)
suite(postgres)
