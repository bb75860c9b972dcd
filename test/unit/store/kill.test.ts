/**
 * kill -9 of a process in the middle of putting batches into the SQLite store: after reopening,
 * every batch whose putBatch had resolved is in the run, and the batch that was in flight counts
 * once when it is put again.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openStore } from '../../../src/store/index.js'
import { sqlite, startWorker } from './backends.js'
import { counted, delta, digestOf, initial, merge, rowsOf } from './counter.js'

test('SIGKILL mid-run loses no resolved batch and counts the in-flight one once', { timeout: 120_000 }, async () => {
  const place = await sqlite.fresh()
  try {
    const setup = await openStore(place.config)
    await setup.migrate()
    const run = await setup.createRun({ metadata: {}, options: {}, classes: 2, state: initial() }, 10)
    await setup.close()

    let next = 0
    for (const after of [40, 150, 333]) {
      const worker = startWorker(place.config, { runId: run.id, from: next, wait: false })
      while (worker.output.length < after) await new Promise((resolve) => setTimeout(resolve, 2))
      worker.child.kill('SIGKILL')
      assert.equal(await worker.exited, null)
      const resolved = worker.output.map((p) => p.id)
      assert.deepEqual(resolved, Array.from({ length: resolved.length }, (_, i) => `b${next + i}`))
      assert.ok(worker.output.every((p) => p.kind === 'added'))

      const store = await openStore(place.config)
      try {
        for (const id of resolved) assert.equal((await store.putBatch(run.id, id, digestOf(id), rowsOf(id), delta(rowsOf(id)), merge)).kind, 'replayed', id)
        next += resolved.length
        // The batch in flight at the kill: committed or not, putting it again counts it once.
        const inFlight = `b${next}`
        const again = await store.putBatch(run.id, inFlight, digestOf(inFlight), rowsOf(inFlight), delta(rowsOf(inFlight)), merge)
        assert.ok(again.kind === 'added' || again.kind === 'replayed', again.kind)
        next += 1
        const all = Array.from({ length: next }, (_, i) => `b${i}`)
        const total = all.reduce((s, id) => s + rowsOf(id), 0)
        const current = await store.getRun(run.id)
        assert.deepEqual({ batches: current?.batches, rows: current?.rows }, { batches: next, rows: total })
        assert.deepEqual(counted(current), { rows: total, batches: next })
        assert.equal(await sqlite.batchRecords(place.config, run.id), next)
      } finally {
        await store.close()
      }
    }
  } finally {
    await place.drop()
  }
})
