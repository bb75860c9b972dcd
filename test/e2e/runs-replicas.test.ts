/**
 * Two service processes sharing one PostgreSQL database, as two replicas behind a load balancer:
 * 8 clients PUT 100 batches each to one run, alternating between the replicas; the run has exactly
 * 800 batches, each got its own place in the sequence, and the totals are the concatenation's.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BACKENDS } from '../helper.js'
import { postgres } from '../unit/store/backends.js'
import { assertRunIs, createRun, putBatch } from './runs-client.js'
import { startServer } from './util.js'

if (postgres.skip !== undefined && process.env.CI === 'true') {
  test('PostgreSQL is reachable under CI=true', () => { throw new Error(postgres.skip) })
}

test('8 clients x 100 batches into one run across 2 replicas: exactly 800 batches, exact totals', { skip: postgres.skip, timeout: 300_000 }, async (t) => {
  const place = await postgres.fresh()
  const env = { WORKERS: '1', TFJS_BACKEND: BACKENDS[0] ?? 'cpu', LOG_LEVEL: 'warn', DATA_DIR: '/nonexistent', DATABASE_URL: place.config.DATABASE_URL ?? '' }
  const servers = await Promise.all([startServer(env), startServer(env)])
  const origins = servers.map((s) => `http://127.0.0.1:${s.port}`)
  try {
    const runId = await createRun(origins[0] ?? '')
    const started = performance.now()
    const answers = await Promise.all(Array.from({ length: 8 }, async (_, k) => {
      const mine = []
      for (let i = 0; i < 100; i++) {
        const id = `rank${k}-step${i}`
        const res = await putBatch(origins[(k + i) % 2] ?? '', runId, id)
        assert.equal(res.status, 200, `${id}: ${JSON.stringify(res.body)}`)
        assert.equal(res.body.replayed, false)
        mine.push(res.body.run.batches as number)
      }
      return mine
    }))
    t.diagnostic(`800 batches in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    // Each batch was merged in its own transaction: the progress the answers report is 1..800, once each.
    assert.deepEqual(answers.flat().sort((a, b) => a - b), Array.from({ length: 800 }, (_, i) => i + 1))
    const ids = Array.from({ length: 8 }, (_, k) => Array.from({ length: 100 }, (_, i) => `rank${k}-step${i}`)).flat()
    for (const origin of origins) await assertRunIs(origin, runId, ids)
    assert.equal(await postgres.batchRecords(place.config, runId), 800)
  } finally {
    for (const s of servers) s.child.kill('SIGKILL')
    await Promise.all(servers.map(async (s) => await s.exited))
    await place.drop()
  }
})
