import { test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { openStore } from '../../../src/store/index.js'
import type { RunStore } from '../../../src/store/types.js'
import { postgres, type StoreConfig } from './backends.js'
import { counted, delta, digestOf, initial, merge, rowsOf } from './counter.js'
import { storeSuite } from './suite.js'

// CI must not go green with the PostgreSQL half of the suite silently skipped.
if (postgres.skip !== undefined && process.env.CI === 'true') {
  test('PostgreSQL is reachable under CI=true', () => { throw new Error(postgres.skip) })
}
storeSuite(postgres)

/**
 * Runs `puts` while another replica's put of batch "b" (5 rows) holds the run's row, commits that
 * put once the store's statement waits for the row, and checks what `puts` returned. The
 * statement's snapshot, taken before that COMMIT, has no record of "b": the batch record's key decides.
 */
async function againstAnotherReplica<T> (puts: (store: RunStore, runId: string) => Promise<T>, check: (outcome: T, store: RunStore, runId: string, config: StoreConfig) => Promise<void>): Promise<void> {
  const place = await postgres.fresh()
  const store = await openStore(place.config)
  const other = new pg.Client(place.config.DATABASE_URL)
  try {
    await store.migrate()
    const run = await store.createRun({ metadata: {}, options: {}, classes: 2, state: initial() }, 10)
    await other.connect()
    await other.query('BEGIN')
    const { seq } = (await other.query<{ seq: string }>('UPDATE runs SET batches = 1, rows = 5, version = version + 1 WHERE id = $1 RETURNING seq', [run.id])).rows[0] ?? { seq: '' }
    await other.query("INSERT INTO batches (run, batch_id, digest, rows, batches_after, rows_after, created) VALUES ($1, 'b', 'digest', 5, 1, 5, now())", [seq])
    await other.query("INSERT INTO deltas (run, batch_id, delta) VALUES ($1, 'b', $2)", [seq, Buffer.from(delta(5))])
    const done = puts(store, run.id)
    for (let waiting = 0; waiting === 0;) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      waiting = (await other.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%UPDATE runs r SET batches%'")).rows[0]?.n ?? 0
    }
    await other.query('COMMIT')
    await check(await done, store, run.id, place.config)
  } finally {
    await other.end()
    await store.close()
    await place.drop()
  }
}

test('a retry that waited on the lock while the first attempt committed is replayed, not added twice', { skip: postgres.skip, timeout: 60_000 }, () =>
  againstAnotherReplica((store, runId) => store.putBatch(runId, 'b', 'digest', 5, delta(5), merge), async (outcome, store, runId) => {
    assert.deepEqual(outcome, { kind: 'replayed', progress: { batches: 1, rows: 5 } })
    const after = await store.getRun(runId)
    assert.deepEqual([after?.batches, counted(after)], [1, { rows: 5, batches: 1 }])
  }))

test('a group that waited on the lock while another replica committed one of its ids: that one replayed, the others added once', { skip: postgres.skip, timeout: 60_000 }, () =>
  againstAnotherReplica((store, runId) => Promise.all([
    // One turn of the event loop: one group, whose statement waits for the row and then meets "b"'s key.
    store.putBatch(runId, 'a', 'digest a', 2, delta(2), merge),
    store.putBatch(runId, 'b', 'digest', 5, delta(5), merge),
    store.putBatch(runId, 'c', 'digest c', 3, delta(3), merge),
    store.putBatch(runId, 'c', 'another digest', 3, delta(3), merge)
  ]), async (outcomes, store, runId, config) => {
    assert.deepEqual(outcomes, [
      { kind: 'added', progress: { batches: 2, rows: 7 } },
      { kind: 'replayed', progress: { batches: 1, rows: 5 } },
      { kind: 'added', progress: { batches: 3, rows: 10 } },
      { kind: 'conflict', message: 'batch "c" was already added with another body' }
    ])
    const after = await store.getRun(runId)
    assert.deepEqual([after?.batches, after?.rows, after?.version, counted(after)], [3, 10, 4, { rows: 10, batches: 3 }])
    assert.equal(await postgres.batchRecords(config, runId), 3)
  }))

test('batches of one run put at once in one process: each answered as if alone, folded as they arrive', { skip: postgres.skip, timeout: 60_000 }, async () => {
  const place = await postgres.fresh()
  const store = await openStore(place.config)
  try {
    await store.migrate()
    const run = await store.createRun({ metadata: {}, options: {}, classes: 2, state: initial() }, 10)
    const ids = Array.from({ length: 60 }, (_, i) => `b${i}`)
    const added = await Promise.all(ids.map((id) => store.putBatch(run.id, id, digestOf(id), rowsOf(id), delta(rowsOf(id)), merge)))
    assert.ok(added.every((o) => o.kind === 'added'))
    const progress = added.map((o) => 'progress' in o ? o.progress.batches : -1)
    assert.deepEqual([...progress].sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i + 1))
    assert.deepEqual(await store.putBatch(run.id, 'b3', digestOf('b3'), rowsOf('b3'), delta(rowsOf('b3')), merge), { ...added[3], kind: 'replayed' })
    assert.equal((await store.putBatch(run.id, 'b4', 'another digest', 1, delta(1), merge)).kind, 'conflict')
    const rows = ids.reduce((s, id) => s + rowsOf(id), 0)
    const after = await store.getRun(run.id)
    assert.deepEqual({ batches: after?.batches, rows: after?.rows }, { batches: 60, rows })
    assert.deepEqual(counted(after), { rows, batches: 60 })
    assert.ok((after?.pending.length ?? Infinity) < 60, 'the puts folded some of the deltas')
    assert.equal(await postgres.batchRecords(place.config, run.id), 60)
    await store.fold(run.id, merge)
    const folded = await store.getRun(run.id)
    assert.deepEqual([folded?.pending, counted(folded), folded?.version], [[], { rows, batches: 60 }, 61])
  } finally {
    await store.close()
    await place.drop()
  }
})
