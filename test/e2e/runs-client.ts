/**
 * What the runs' end-to-end tests share: seeded batches, a client that PUTs them over a real socket
 * and remembers which were answered, and the check that a run's totals are those of its batches.
 */
import assert from 'node:assert/strict'
import { mulberry32 } from '../../scripts/lib/random.js'

export const C = 10
export const RUN_OPTIONS = { classes: C, gamma: 2, alpha: 0.25, hardest: 4 }

export interface Batch { logits: number[][], labels: number[] }

/** Batch `id`'s rows, the same for the same id in every process. */
export function batchOf (id: string, rows = 8): Batch {
  let seed = 7
  for (const ch of id) seed = (seed * 31 + ch.charCodeAt(0)) >>> 0
  const u = mulberry32(seed)
  const logits = Array.from({ length: rows }, () => Array.from({ length: C }, () => Math.fround((u() - 0.5) * 8)))
  return { logits, labels: Array.from({ length: rows }, () => Math.floor(u() * C)) }
}

export interface Answer { status: number, headers: Headers, body: any }

export async function call (origin: string, method: string, path: string, payload?: unknown): Promise<Answer> {
  const res = await fetch(origin + path, {
    method,
    ...(payload === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) })
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }
}

export async function createRun (origin: string): Promise<string> {
  const res = await call(origin, 'POST', '/runs', RUN_OPTIONS)
  assert.equal(res.status, 201, JSON.stringify(res.body))
  return res.body.id as string
}

export const putBatch = async (origin: string, runId: string, id: string): Promise<Answer> =>
  await call(origin, 'PUT', `/runs/${runId}/batches/${id}`, batchOf(id))

const close = (a: number, b: number, what: string): void => {
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`)
}

/**
 * The run has exactly the batches `ids` and its totals are /loss/compare's on their concatenation,
 * within float64 rounding (the sums are taken in another order).
 */
export async function assertRunIs (origin: string, runId: string, ids: readonly string[]): Promise<void> {
  const run = await call(origin, 'GET', `/runs/${runId}`)
  assert.equal(run.status, 200, JSON.stringify(run.body))
  const batches = ids.map((id) => batchOf(id))
  assert.equal(run.body.batches, ids.length)
  assert.equal(run.body.rows, batches.reduce((s, b) => s + b.labels.length, 0))
  const whole = await call(origin, 'POST', '/loss/compare', {
    logits: batches.flatMap((b) => b.logits),
    labels: batches.flatMap((b) => b.labels),
    gamma: RUN_OPTIONS.gamma,
    alpha: RUN_OPTIONS.alpha,
    hardest: RUN_OPTIONS.hardest,
    breakdown: true
  })
  assert.equal(whole.status, 200)
  for (const loss of ['ce', 'focal'] as const) {
    close(run.body[loss].sum, whole.body[loss].sum, `${loss}.sum`)
    assert.equal(run.body[loss].normalizer, whole.body[loss].normalizer, `${loss}.normalizer`)
    assert.deepEqual(run.body.hardest[loss].map((r: { loss: number }) => r.loss), whole.body[loss].hardest.map((r: { loss: number }) => r.loss))
  }
  run.body.perClass.forEach((c: any, k: number) => {
    assert.equal(c.count, whole.body.perClass[k].count, `class ${k} count`)
    close(c.ce.sum, whole.body.perClass[k].ce.sum, `class ${k} ce`)
  })
}

/**
 * `clients` loops PUTting batches `<prefix>c<k>-<i>` until `stop()` says so; `answered` holds the ids
 * answered 2xx, `unanswered` those whose request failed or was refused.
 */
export function putLoop (origin: () => string, runId: string, prefix: string, clients: number) {
  const answered = new Set<string>()
  const unanswered = new Set<string>()
  const statuses: Answer[] = []
  const state = { stopped: false }
  const done = Promise.all(Array.from({ length: clients }, async (_, k) => {
    for (let i = 0; !state.stopped; i++) {
      const id = `${prefix}c${k}-${i}`
      try {
        const res = await putBatch(origin(), runId, id)
        statuses.push(res)
        if (res.status === 200) answered.add(id)
        else unanswered.add(id)
        if (res.status === 503) await new Promise((resolve) => setTimeout(resolve, 20))
      } catch {
        unanswered.add(id)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }))
  return { answered, unanswered, statuses, stop: async () => { state.stopped = true; await done } }
}
