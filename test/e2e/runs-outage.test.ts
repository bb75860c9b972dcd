/**
 * The run store going away under a running service, at the HTTP level: the test starts a
 * PostgreSQL server of its own, points the service at it and stops it mid-run. Batch PUTs answer 503
 * with Retry-After and leave nothing half-written, /health/ready reports the store, and once the
 * server is back everything works again: each batch PUT again counts once, the totals are exact.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { BACKENDS } from '../helper.js'
import { postgresBin, throwawayPostgres } from '../unit/store/throwaway-pg.js'
import { assertRunIs, call, createRun, putBatch, putLoop } from './runs-client.js'
import { startServer } from './util.js'

const bin = postgresBin()
const skip = bin === undefined ? 'no PostgreSQL server binaries under /usr/lib/postgresql' : undefined
if (skip !== undefined && process.env.CI === 'true') {
  test('PostgreSQL server binaries are installed under CI=true', () => { throw new Error(skip) })
}

/** The run's counters and its batch records, read in the database itself. */
async function stored (url: string): Promise<{ batches: number, records: number }> {
  const client = new pg.Client(url)
  await client.connect()
  try {
    const { rows } = await client.query<{ batches: number, records: number }>('SELECT (SELECT sum(batches)::int FROM runs) AS batches, (SELECT count(*)::int FROM batches) AS records')
    return rows[0] ?? { batches: -1, records: -2 }
  } finally {
    await client.end()
  }
}

async function until (what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test('PostgreSQL stopped mid-run: 503 + Retry-After, nothing half-written, readiness says so, all recovers', { skip, timeout: 300_000 }, async (t) => {
  const db = await throwawayPostgres(bin ?? '')
  const server = await startServer({ WORKERS: '1', TFJS_BACKEND: BACKENDS[0] ?? 'cpu', LOG_LEVEL: 'warn', DATA_DIR: '/nonexistent', DATABASE_URL: db.url })
  const origin = `http://127.0.0.1:${server.port}`
  try {
    const runId = await createRun(origin)
    const all = new Set<string>()
    for (const mode of ['fast', 'immediate'] as const) {
      const loop = putLoop(() => origin, runId, `${mode}-`, 4)
      await until('40 answered batches', async () => loop.answered.size >= 40)
      await db.stop(mode)
      await until('a 503', async () => loop.statuses.some((s) => s.status === 503))
      const down = await call(origin, 'GET', '/health/ready')
      await loop.stop()
      t.diagnostic(`${mode}: ${loop.answered.size} answered, ${loop.unanswered.size} refused`)

      const refused = loop.statuses.filter((s) => s.status !== 200)
      for (const s of refused) {
        assert.equal(s.status, 503, JSON.stringify(s.body))
        assert.equal(s.headers.get('retry-after'), '1')
        assert.match(s.body.message, /^the run store is unavailable \(.+\); retry$/)
      }
      assert.equal(down.status, 503)
      assert.equal(down.body.status, 'unavailable')
      assert.equal(down.body.store.status, 'unavailable')
      assert.equal(down.body.store.dialect, 'postgres')
      assert.equal(typeof down.body.store.reason, 'string')
      assert.equal((await call(origin, 'GET', `/runs/${runId}`)).status, 503)
      // The compute routes do not need the store.
      assert.equal((await call(origin, 'POST', '/loss/ce', { logits: [[1, 2]], labels: [0] })).status, 200)

      await db.start()
      await until('readiness', async () => (await call(origin, 'GET', '/health/ready')).status === 200)
      // Nothing half-written: the run's counter and its batch records agree, and hold every answered batch.
      const after = await stored(db.url)
      assert.equal(after.batches, after.records)
      assert.ok(after.records >= all.size + loop.answered.size, `${after.records} records, ${all.size + loop.answered.size} answered`)
      for (const id of loop.answered) assert.equal((await putBatch(origin, runId, id)).body.replayed, true, id)
      for (const id of loop.unanswered) assert.equal((await putBatch(origin, runId, id)).status, 200, id)
      for (const id of [...loop.answered, ...loop.unanswered]) all.add(id)
      await assertRunIs(origin, runId, [...all])
    }
    assert.equal(server.child.exitCode, null, 'the service kept running through both outages')
  } finally {
    server.child.kill('SIGKILL')
    await server.exited
    await db.destroy()
  }
})
