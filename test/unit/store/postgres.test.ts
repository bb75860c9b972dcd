import { test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { openStore } from '../../../src/store/index.js'
import { postgres } from './backends.js'
import { add, digestOf, initial, read, rowsOf } from './counter.js'
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

test('batches of one run put at once in one process: committed in groups, each answered as if alone', { skip: postgres.skip, timeout: 60_000 }, async () => {
  const place = await postgres.fresh()
  const store = await openStore(place.config)
  try {
    await store.migrate()
    const run = await store.createRun({ metadata: {}, options: {}, classes: 2, state: initial() }, 10)
    const ids = Array.from({ length: 60 }, (_, i) => `b${i}`)
    const throwing = (): Uint8Array => { throw new Error('merge failed') }
    const puts = [
      ...ids.map((id) => store.putBatch(run.id, id, digestOf(id), rowsOf(id), add(rowsOf(id)))),
      // Within the same groups: a retry of a batch id, another body under one, a merge that throws.
      store.putBatch(run.id, 'b3', digestOf('b3'), rowsOf('b3'), add(rowsOf('b3'))),
      store.putBatch(run.id, 'b4', 'another digest', 1, add(1)),
      store.putBatch(run.id, 'bad', digestOf('bad'), 1, throwing)
    ].map(async (p) => await p.then((outcome) => outcome, (err: Error) => err))
    const outcomes = await Promise.all(puts)
    const added = outcomes.slice(0, 60)
    assert.ok(added.every((o) => !(o instanceof Error) && o.kind === 'added'))
    const progress = added.map((o) => !(o instanceof Error) && 'progress' in o ? o.progress.batches : -1)
    assert.deepEqual([...progress].sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i + 1))
    const [retry, other, bad] = outcomes.slice(60)
    assert.ok(retry !== undefined && !(retry instanceof Error) && retry.kind === 'replayed')
    assert.deepEqual(retry.progress, (added[3] as { progress: unknown }).progress)
    assert.ok(other !== undefined && !(other instanceof Error) && other.kind === 'conflict')
    assert.ok(bad instanceof Error && bad.message === 'merge failed')
    const total = ids.reduce((s, id) => s + rowsOf(id), 0)
    const after = await store.getRun(run.id)
    assert.deepEqual({ batches: after?.batches, rows: after?.rows }, { batches: 60, rows: total })
    assert.deepEqual(read(after?.state ?? new Uint8Array(16)), { rows: total, batches: 60 })
    assert.equal(await postgres.batchRecords(place.config, run.id), 60)
  } finally {
    await store.close()
    await place.drop()
  }
})
