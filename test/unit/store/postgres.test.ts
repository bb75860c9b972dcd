import { test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { openStore } from '../../../src/store/index.js'
import { postgres } from './backends.js'
import { add, initial, read } from './counter.js'
import { storeSuite } from './suite.js'

// CI must not go green with the PostgreSQL half of the suite silently skipped.
if (postgres.skip !== undefined && process.env.CI === 'true') {
  test('PostgreSQL is reachable under CI=true', () => { throw new Error(postgres.skip) })
}
storeSuite(postgres)

test('a retry that waited on the lock while the first attempt committed is replayed, not added twice', { skip: postgres.skip, timeout: 60_000 }, async () => {
  const place = await postgres.fresh()
  const store = await openStore(place.config)
  const other = new pg.Client(place.config.DATABASE_URL)
  try {
    await store.migrate()
    const run = await store.createRun({ metadata: {}, options: {}, classes: 2, state: initial() }, 10)
    await other.connect()
    // Another replica's put of batch "b", holding the run's lock until COMMIT.
    await other.query('BEGIN')
    const { seq } = (await other.query<{ seq: string }>('SELECT seq FROM runs WHERE id = $1 FOR UPDATE', [run.id])).rows[0] ?? { seq: '' }
    await other.query('UPDATE runs SET state = $2, batches = 1, rows = 5, version = version + 1 WHERE seq = $1', [seq, Buffer.from(add(5)(initial()))])
    await other.query("INSERT INTO batches VALUES ($1, 'b', 'digest', 5, 1, 5, now())", [seq])
    const retry = store.putBatch(run.id, 'b', 'digest', 5, add(5))
    for (let waiting = 0; waiting === 0;) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      waiting = (await other.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE OF r%'")).rows[0]?.n ?? 0
    }
    await other.query('COMMIT')
    const outcome = await retry
    assert.equal(outcome.kind, 'replayed')
    assert.ok(outcome.kind === 'replayed')
    assert.deepEqual(outcome.progress, { batches: 1, rows: 5 })
    const after = await store.getRun(run.id)
    assert.deepEqual([after?.batches, read(after?.state ?? new Uint8Array(16))], [1, { rows: 5, batches: 1 }])
  } finally {
    await other.end()
    await store.close()
    await place.drop()
  }
})
