/**
 * The store's contract, run on every backend by sqlite.test.ts and postgres.test.ts.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ConflictError, InvalidInputError } from '../../../src/errors.js'
import { openStore } from '../../../src/store/index.js'
import type { Merge, NewRun, RunStore } from '../../../src/store/index.js'
import type { Backend, StoreConfig } from './backends.js'
import { counted, delta, digestOf, initial, merge, rowsOf } from './counter.js'

const DAY = 86_400_000
const T0 = Date.parse('2026-01-01T00:00:00.000Z')

function newRun (over: Partial<NewRun> = {}): NewRun {
  return { metadata: {}, options: {}, classes: 3, state: initial(), ...over }
}

export function storeSuite (backend: Backend): void {
  /** A fresh migrated store whose clock reads `clock.now`; dropped after `fn`. */
  async function withStore (fn: (store: RunStore, clock: { now: number }, config: StoreConfig) => Promise<void>): Promise<void> {
    const place = await backend.fresh()
    const clock = { now: T0 }
    const store = await openStore(place.config, { now: () => clock.now })
    try {
      await store.migrate()
      await fn(store, clock, place.config)
    } finally {
      await store.close()
      await place.drop()
    }
  }

  describe(`store on ${backend.name}`, { skip: backend.skip }, () => {
    test('migrate is idempotent and records each version once', () => withStore(async (store, _clock, config) => {
      assert.equal(store.dialect, backend.name)
      await store.migrate()
      assert.deepEqual(await backend.migrations(config), [1, 2])
    }))

    test('migrations applied by several clients at once: no error, applied once', async () => {
      const place = await backend.fresh()
      try {
        const jobs = await backend.concurrently(place.config, Array.from({ length: 6 }, () => ({ migrate: true })))
        assert.equal(jobs.length, 6)
        assert.deepEqual(await backend.migrations(place.config), [1, 2])
      } finally {
        await place.drop()
      }
    })

    test('a created run reads back as it was written', () => withStore(async (store) => {
      const metadata = { model: 'resnet50', z: 1, a: [1, 2], nested: { b: null } }
      const options = [{ activation: 'softmax', gamma: 2 }, 'x']
      const state = new Uint8Array([1, 2, 3, 250])
      const created = await store.createRun(newRun({ name: 'ce-vs-focal', metadata, options, classes: 400, state }), 10)
      assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      const expected = {
        id: created.id,
        name: 'ce-vs-focal',
        metadata,
        options,
        classes: 400,
        status: 'open',
        created: '2026-01-01T00:00:00.000Z',
        closed: null,
        batches: 0,
        rows: 0,
        state,
        pending: [],
        version: 1
      }
      assert.deepEqual(created, expected)
      const got = await store.getRun(created.id)
      assert.deepEqual(got, expected)
      assert.deepEqual(Object.keys(got?.metadata ?? {}), ['model', 'z', 'a', 'nested'])
      assert.equal((await store.createRun(newRun(), 10)).name, null)
      assert.equal(await store.getRun('00000000-0000-4000-8000-000000000000'), undefined)
      assert.equal(await store.getRun('not-a-run'), undefined)
    }))

    test('runs are listed newest first in stable pages', () => withStore(async (store, clock) => {
      const ids: string[] = []
      for (let i = 0; i < 7; i++) {
        // Two runs share each millisecond, so pages must break ties by id.
        clock.now = T0 + Math.floor(i / 2)
        ids.push((await store.createRun(newRun({ name: `r${i}` }), 100)).id)
      }
      const expected = ids.map((id, i) => ({ id, t: T0 + Math.floor(i / 2) }))
        .sort((a, b) => b.t - a.t || (a.id < b.id ? 1 : -1)).map((r) => r.id)
      const seen: string[] = []
      let cursor: string | undefined
      const sizes: number[] = []
      do {
        const page = await store.listRuns(cursor === undefined ? { limit: 3 } : { limit: 3, cursor })
        sizes.push(page.runs.length)
        seen.push(...page.runs.map((r) => r.id))
        assert.ok(page.runs.every((r) => !('state' in r)))
        cursor = page.next ?? undefined
      } while (cursor !== undefined)
      assert.deepEqual(sizes, [3, 3, 1])
      assert.deepEqual(seen, expected)
      assert.deepEqual((await store.listRuns({ limit: 7 })).next, null)
      await assert.rejects(store.listRuns({ limit: 3, cursor: 'bogus' }),
        new InvalidInputError('cursor = "bogus" is not a cursor this service returned'))
    }))

    test('close, then close again, then delete', () => withStore(async (store, clock) => {
      const run = await store.createRun(newRun(), 10)
      clock.now = T0 + 5000
      const closed = await store.closeRun(run.id)
      assert.deepEqual({ status: closed?.status, closed: closed?.closed, version: closed?.version }, { status: 'closed', closed: '2026-01-01T00:00:05.000Z', version: 2 })
      clock.now = T0 + 9000
      assert.deepEqual(await store.closeRun(run.id), closed)
      assert.equal(await store.closeRun('00000000-0000-4000-8000-000000000000'), undefined)
      assert.equal(await store.deleteRun(run.id), true)
      assert.equal(await store.getRun(run.id), undefined)
      assert.equal(await store.deleteRun(run.id), false)
      assert.equal(await store.deleteRun('not-a-run'), false)
    }))

    test('deleting a run deletes its batch records', () => withStore(async (store, _clock, config) => {
      const run = await store.createRun(newRun(), 10)
      for (const id of ['a', 'b', 'c']) await store.putBatch(run.id, id, digestOf(id), 1, delta(1), merge)
      assert.equal(await backend.batchRecords(config, run.id), 3)
      await store.deleteRun(run.id)
      assert.equal(await backend.batchRecords(config, run.id), 0)
      assert.deepEqual(await store.putBatch(run.id, 'a', digestOf('a'), 1, delta(1), merge), { kind: 'missing' })
    }))

    test('purgeClosed deletes only the runs closed longer ago than the retention', () => withStore(async (store, clock, config) => {
      const old = await store.createRun(newRun(), 10)
      const recent = await store.createRun(newRun(), 10)
      const open = await store.createRun(newRun(), 10)
      await store.putBatch(old.id, 'b', digestOf('b'), 1, delta(1), merge)
      await store.closeRun(old.id)
      clock.now = T0 + 20 * DAY
      await store.closeRun(recent.id)
      clock.now = T0 + 31 * DAY
      assert.equal(await store.purgeClosed(30), 1)
      assert.equal(await store.getRun(old.id), undefined)
      assert.equal(await backend.batchRecords(config, old.id), 0)
      assert.equal((await store.getRun(recent.id))?.status, 'closed')
      assert.equal((await store.getRun(open.id))?.status, 'open')
      assert.equal(await store.purgeClosed(30), 0)
    }))

    test('MAX_RUNS open runs at once; closing one makes room', () => withStore(async (store) => {
      const first = await store.createRun(newRun(), 2)
      await store.createRun(newRun(), 2)
      await assert.rejects(store.createRun(newRun(), 2),
        new ConflictError('2 runs are open, as many as MAX_RUNS allows: close or delete one first'))
      await store.closeRun(first.id)
      assert.equal(await store.openRuns(), 1)
      assert.equal((await store.createRun(newRun(), 2)).status, 'open')
      assert.equal(await store.openRuns(), 2)
    }))

    test('concurrent creates never exceed MAX_RUNS', () => withStore(async (store) => {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => store.createRun(newRun(), 3)))
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3)
      assert.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof ConflictError))
    }))

    test('putBatch: added, replayed, conflict, closed, missing', () => withStore(async (store, clock, config) => {
      const run = await store.createRun(newRun(), 10)
      const first = await store.putBatch(run.id, 'rank0-step1', 'd1', 64, delta(64), merge)
      assert.deepEqual(first, { kind: 'added', progress: { batches: 1, rows: 64 } })
      const second = await store.putBatch(run.id, 'rank1-step1', 'd2', 10, delta(10), merge)
      assert.deepEqual(second, { kind: 'added', progress: { batches: 2, rows: 74 } })
      const stored = await store.getRun(run.id)
      assert.deepEqual({ batches: stored?.batches, rows: stored?.rows, version: stored?.version }, { batches: 2, rows: 74, version: 3 })
      assert.deepEqual(counted(stored), { rows: 74, batches: 2 })

      const replay = await store.putBatch(run.id, 'rank0-step1', 'd1', 64, delta(64), merge)
      assert.deepEqual(replay, { kind: 'replayed', progress: { batches: 1, rows: 64 } })
      assert.deepEqual(await store.getRun(run.id), stored, 'a replay writes nothing')
      assert.deepEqual(await store.putBatch(run.id, 'rank0-step1', 'other', 64, delta(64), merge),
        { kind: 'conflict', message: 'batch "rank0-step1" was already added with another body' })

      clock.now = T0 + 1000
      await store.closeRun(run.id)
      assert.deepEqual(await store.putBatch(run.id, 'rank2-step1', 'd3', 5, delta(5), merge), { kind: 'closed' })
      assert.equal((await store.putBatch(run.id, 'rank1-step1', 'd2', 10, delta(10), merge)).kind, 'replayed', 'a retry after close learns it was counted')
      const after = await store.getRun(run.id)
      assert.deepEqual({ batches: after?.batches, rows: after?.rows, version: after?.version }, { batches: 2, rows: 74, version: 4 })
      assert.deepEqual(counted(after), { rows: 74, batches: 2 })
      assert.equal(await backend.batchRecords(config, run.id), 2)

      assert.deepEqual(await store.putBatch('00000000-0000-4000-8000-000000000000', 'x', 'd', 1, delta(1), merge), { kind: 'missing' })
      assert.deepEqual(await store.putBatch('not-a-run', 'x', 'd', 1, delta(1), merge), { kind: 'missing' })
    }))

    test('a merge that throws leaves the deltas pending and the state as it was; fold folds them later', () => withStore(async (store, _clock, config) => {
      const run = await store.createRun(newRun(), 10)
      const throwing: Merge = () => { throw new RangeError('bad state') }
      // Fewer than a PostgreSQL store's FOLD_EVERY, so that no fold of its own runs meanwhile.
      for (let i = 1; i <= 15; i++) assert.equal((await store.putBatch(run.id, `b${i}`, `d${i}`, i, delta(i), throwing)).kind, 'added')
      await assert.rejects(store.fold(run.id, throwing), new RangeError('bad state'))
      const before = await store.getRun(run.id)
      assert.deepEqual(before?.state, run.state)
      assert.equal(before?.pending.length, 15)
      assert.deepEqual(counted(before), { rows: 120, batches: 15 })
      assert.equal(await store.fold(run.id, merge), 15)
      const after = await store.getRun(run.id)
      assert.deepEqual([after?.pending, counted(after), after?.version], [[], { rows: 120, batches: 15 }, 16])
      assert.equal(await store.fold(run.id, merge), 0)
      assert.equal(await store.fold('not-a-run', merge), 0)
      assert.equal(await backend.batchRecords(config, run.id), 15)
    }))

    test('what a run keeps stays bounded by its statistics: deltas are folded as batches arrive', () => withStore(async (store) => {
      const run = await store.createRun(newRun(), 10)
      for (let i = 1; i <= 100; i++) await store.putBatch(run.id, `b${i}`, `d${i}`, 1, delta(1), merge)
      const after = await store.getRun(run.id)
      assert.deepEqual(counted(after), { rows: 100, batches: 100 })
      // PostgreSQL folds every 16 batches, in the background: the last fold may not have committed yet.
      assert.ok((after?.pending.length ?? Infinity) <= 32, `${after?.pending.length} deltas pending`)
    }))

    test('8 clients retrying the same batch ids at once: each counted once, all answered alike', { timeout: 180_000 }, () => withStore(async (store, _clock, config) => {
      const run = await store.createRun(newRun(), 10)
      const ids = Array.from({ length: 20 }, (_, i) => `same-${i}`)
      const perClient = await backend.concurrently(config, Array.from({ length: 8 }, () => ({ runId: run.id, ids })))
      for (const id of ids) {
        const puts = perClient.map((p) => p.find((put) => put.id === id))
        assert.deepEqual(puts.map((p) => p?.kind).sort(), ['added', ...Array<string>(7).fill('replayed')], id)
        assert.equal(new Set(puts.map((p) => JSON.stringify(p?.progress))).size, 1, id)
      }
      const total = ids.reduce((s, id) => s + rowsOf(id), 0)
      const after = await store.getRun(run.id)
      assert.deepEqual([after?.batches, after?.rows, counted(after)], [20, total, { rows: total, batches: 20 }])
      assert.equal(await backend.batchRecords(config, run.id), 20)
    }))

    test('8 concurrent writers x 100 batches, and retries of shared ids: every batch counted once', { timeout: 180_000 }, () => withStore(async (store, _clock, config) => {
      const run = await store.createRun(newRun(), 10)
      const shared = Array.from({ length: 10 }, (_, i) => `shared-${i}`)
      const jobs = Array.from({ length: 8 }, (_, w) => ({
        runId: run.id,
        // Each writer also retries the shared ids, interleaved with its own.
        ids: Array.from({ length: 100 }, (_, i) => `w${w}-${i}`).flatMap((id, i) => i % 10 === 0 ? [id, shared[(i / 10 + w) % 10] as string] : [id])
      }))
      const perWriter = await backend.concurrently(config, jobs)
      // The writers really ran at once: one after another, the puts in time order would change writer 7 times.
      const order = perWriter.flatMap((p, w) => p.map((put) => ({ w, t: put.t }))).sort((a, b) => a.t - b.t)
      const switches = order.filter((put, i) => i > 0 && put.w !== order[i - 1]?.w).length
      assert.ok(switches > 16, `${switches} switches between writers`)
      const puts = perWriter.flat()
      const count = (pattern: RegExp, kind: string) => puts.filter((p) => pattern.test(p.id) && p.kind === kind).length
      assert.deepEqual([count(/^w/, 'added'), count(/^shared/, 'added'), count(/^shared/, 'replayed')], [800, 10, 70])
      const ids = [...jobs.flatMap((j) => j.ids.filter((id) => id.startsWith('w'))), ...shared]
      const total = ids.reduce((s, id) => s + rowsOf(id), 0)
      const after = await store.getRun(run.id)
      assert.deepEqual({ batches: after?.batches, rows: after?.rows }, { batches: 810, rows: total })
      assert.deepEqual(counted(after), { rows: total, batches: 810 })
      assert.equal(await backend.batchRecords(config, run.id), 810)
    }))
  })
}
