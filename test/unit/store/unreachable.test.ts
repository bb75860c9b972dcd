/**
 * The PostgreSQL store while its server goes away mid-run and comes back: puts fail with
 * UnavailableError and leave nothing half-written, ping() says so, and the same store object
 * works again once the server returns, with exact totals after the failed batches are put again.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { UnavailableError } from '../../../src/errors.js'
import { openStore } from '../../../src/store/index.js'
import { counted, delta, digestOf, initial, merge, rowsOf } from './counter.js'
import { postgresBin, throwawayPostgres } from './throwaway-pg.js'

const bin = postgresBin()
const skip = bin === undefined ? 'no PostgreSQL server binaries under /usr/lib/postgresql' : undefined
if (skip !== undefined && process.env.CI === 'true') {
  test('PostgreSQL server binaries are installed under CI=true', () => { throw new Error(skip) })
}

async function batchRecords (url: string): Promise<number> {
  const client = new pg.Client(url)
  await client.connect()
  try {
    return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM batches')).rows[0]?.n ?? -1
  } finally {
    await client.end()
  }
}

const isUnavailable = (err: unknown) => err instanceof UnavailableError && err.retryAfterSeconds === 1

test('the store survives its PostgreSQL stopping and returning', { skip, timeout: 180_000 }, async () => {
  const server = await throwawayPostgres(bin ?? '')
  const store = await openStore({ DATA_DIR: '/nonexistent', DATABASE_URL: server.url })
  try {
    await store.migrate()
    const run = await store.createRun({ metadata: {}, options: {}, classes: 2, state: initial() }, 10)
    const attempted = new Set<string>()
    const added = new Set<string>()
    for (const mode of ['fast', 'immediate'] as const) {
      // Four writers put batches until the server is gone under them.
      let stopped = false
      const failures: unknown[] = []
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; ; i++) {
          const id = `${mode}-w${w}-${i}`
          attempted.add(id)
          try {
            const outcome = await store.putBatch(run.id, id, digestOf(id), rowsOf(id), delta(rowsOf(id)), merge)
            assert.equal(outcome.kind, 'added')
            added.add(id)
          } catch (err) {
            failures.push(err)
            if (stopped) return
            await new Promise((resolve) => setTimeout(resolve, 10))
          }
        }
      })
      while (added.size < (mode === 'fast' ? 50 : 150)) await new Promise((resolve) => setTimeout(resolve, 5))
      await server.stop(mode)
      stopped = true
      await Promise.all(writers)
      assert.ok(failures.length >= 4)
      for (const err of failures) assert.ok(isUnavailable(err), `${mode}: ${String(err)}`)
      await assert.rejects(store.ping(), isUnavailable)
      await assert.rejects(store.putBatch(run.id, 'while-down', 'd', 1, delta(1), merge), isUnavailable)
      await assert.rejects(store.getRun(run.id), isUnavailable)

      await server.start()
      await store.ping()
      // Nothing half-written: the counters, the merged state and the batch records agree.
      const after = await store.getRun(run.id)
      assert.ok(after !== undefined)
      assert.deepEqual(counted(after), { rows: after.rows, batches: after.batches })
      assert.equal(await batchRecords(server.url), after.batches)
      assert.ok(after.batches >= added.size && after.batches <= attempted.size, `${after.batches} in [${added.size}, ${attempted.size}]`)
    }
    // Each batch whose answer was lost is put again: counted once, whether or not it had committed.
    for (const id of attempted) {
      const outcome = await store.putBatch(run.id, id, digestOf(id), rowsOf(id), delta(rowsOf(id)), merge)
      if (added.has(id)) assert.equal(outcome.kind, 'replayed', id)
      else assert.ok(outcome.kind === 'added' || outcome.kind === 'replayed', `${id}: ${outcome.kind}`)
    }
    const total = [...attempted].reduce((s, id) => s + rowsOf(id), 0)
    const final = await store.getRun(run.id)
    assert.deepEqual({ batches: final?.batches, rows: final?.rows }, { batches: attempted.size, rows: total })
    assert.deepEqual(counted(final), { rows: total, batches: attempted.size })
  } finally {
    await store.close()
    await server.destroy()
  }
})
