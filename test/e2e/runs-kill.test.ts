/**
 * kill -9 of the service in the middle of a run, on the SQLite file and on PostgreSQL: after a
 * restart every batch that was answered 2xx is in the run (its retry is a replay), a batch whose
 * answer never came counts once when it is PUT again, and the totals are the batches'.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BACKENDS } from '../helper.js'
import { postgres, sqlite, type Backend } from '../unit/store/backends.js'
import { assertRunIs, createRun, putBatch, putLoop } from './runs-client.js'
import { startServer, type Server } from './util.js'

if (postgres.skip !== undefined && process.env.CI === 'true') {
  test('PostgreSQL is reachable under CI=true', () => { throw new Error(postgres.skip) })
}

for (const backend of [sqlite, postgres] as Backend[]) {
  test(`SIGKILL mid-run loses no answered batch and counts a retried one once (${backend.name})`, { skip: backend.skip, timeout: 300_000 }, async (t) => {
    const place = await backend.fresh()
    const env: Record<string, string> = { WORKERS: '1', TFJS_BACKEND: BACKENDS[0] ?? 'cpu', LOG_LEVEL: 'warn', DATA_DIR: place.config.DATA_DIR }
    if (place.config.DATABASE_URL !== undefined) env.DATABASE_URL = place.config.DATABASE_URL
    let server: Server = await startServer(env)
    const origin = (): string => `http://127.0.0.1:${server.port}`
    try {
      const runId = await createRun(origin())
      const all = new Set<string>()
      for (const round of [0, 1, 2]) {
        const loop = putLoop(origin, runId, `r${round}`, 4)
        while (loop.answered.size < 20 + 15 * round) await new Promise((resolve) => setTimeout(resolve, 5))
        server.child.kill('SIGKILL')
        assert.equal((await server.exited).signal, 'SIGKILL')
        await loop.stop()
        t.diagnostic(`round ${round}: ${loop.answered.size} answered before the kill, ${loop.unanswered.size} not`)
        server = await startServer(env)
        for (const id of loop.answered) {
          const again = await putBatch(origin(), runId, id)
          assert.equal(again.status, 200, id)
          assert.equal(again.body.replayed, true, `${id} was answered 200 before the kill and must be in the run`)
        }
        for (const id of loop.unanswered) assert.equal((await putBatch(origin(), runId, id)).status, 200, id)
        for (const id of [...loop.answered, ...loop.unanswered]) all.add(id)
        await assertRunIs(origin(), runId, [...all])
      }
    } finally {
      server.child.kill('SIGKILL')
      await server.exited
      await place.drop()
    }
  })
}
