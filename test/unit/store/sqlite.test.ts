import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { UnavailableError } from '../../../src/errors.js'
import { openStore } from '../../../src/store/index.js'
import { sqlite } from './backends.js'
import { delta, initial, merge } from './counter.js'
import { storeSuite } from './suite.js'

storeSuite(sqlite)

test('a write lock held past busy_timeout is UnavailableError, and nothing is written', { timeout: 60_000 }, async () => {
  const place = await sqlite.fresh()
  const store = await openStore(place.config)
  const other = new Database(join(place.config.DATA_DIR, 'runs.sqlite'))
  try {
    await store.migrate()
    const run = await store.createRun({ metadata: {}, options: {}, classes: 2, state: initial() }, 10)
    other.exec('BEGIN IMMEDIATE')
    await assert.rejects(store.putBatch(run.id, 'b', 'd', 1, delta(1), merge),
      (err: unknown) => err instanceof UnavailableError && err.retryAfterSeconds === 1 && err.message === 'the run store is busy (SQLITE_BUSY); retry')
    other.exec('ROLLBACK')
    assert.deepEqual(await store.getRun(run.id), run)
    assert.equal((await store.putBatch(run.id, 'b', 'd', 1, delta(1), merge)).kind, 'added')
  } finally {
    other.close()
    await store.close()
    await place.drop()
  }
})
