/**
 * Runs over JSON: the options a run is created with, checked once on a batch of one row; each
 * batch as the dataplane's request under those options; a run's statistics as its reply.
 */
import { isDeepStrictEqual } from 'node:util'
import { invalid } from '../../errors.js'
import type { ScoreRequest } from '../../dataplane/index.js'
import { RUN_THRESHOLDS } from '../../evaluation/options.js'
import { runMetrics, type RunState, type RunSummary as StoredSummary, type RunView } from '../../dataplane/runs/index.js'
import type { LossInput } from '../../losses/index.js'
import type { CompareLossesBody } from '../../../schemas/losses.js'
import type { BatchBody, RunComparison, RunCreateBody, RunListed, RunReply } from '../../../schemas/runs.js'
import { compareRequest } from './losses.js'
import { withMetrics } from './metrics.js'
import { requestFor } from './request.js'

/** A run's reply keys: a loss of a run may not be named so. */
export const RUN_RESERVED: ReadonlySet<string> = new Set([
  'id', 'name', 'metadata', 'status', 'created', 'closed', 'classes', 'batches', 'rows', 'options', 'hardest', 'shots',
  'difference', 'replayed', 'metrics', 'perClass', 'run', 'losses'
])

const METADATA_LIMIT = 4096

/** The scoring options a run stores. */
export type RunOptions = Omit<CompareLossesBody, 'logits' | 'labels'> & { thresholds?: number | undefined }

/** What a run stores of its creation body: the scoring options, without what is the run's own. */
export function runOptions (body: RunCreateBody): RunOptions {
  const { classes: _classes, name: _name, metadata: _metadata, ...options } = body
  return options
}

export function checkMetadata (metadata: Record<string, unknown> | undefined): Record<string, unknown> {
  if (metadata === undefined) return {}
  const size = Buffer.byteLength(JSON.stringify(metadata))
  if (size > METADATA_LIMIT) invalid(`metadata is ${size} bytes as JSON; the limit is ${METADATA_LIMIT}`)
  return metadata
}

/**
 * The options applied to a decoded batch: the listed losses, else cross-entropy and focal, and the
 * metrics with binned AP/AUROC, whose statistics keep their size however many batches merge.
 */
function scored (options: RunOptions, input: LossInput): ScoreRequest {
  const { thresholds, ...compare } = options
  const body = { ...compare, logits: [], labels: [] }
  const request = compare.losses === undefined ? requestFor('compare', body, input) : compareRequest({ ...body, losses: compare.losses }, input)
  if (request.metrics === undefined) {
    if (thresholds !== undefined) invalid('thresholds needs metrics: true')
    return request
  }
  return { ...request, metrics: { ...request.metrics, options: { ...request.metrics.options, thresholds: thresholds ?? RUN_THRESHOLDS } } }
}

/**
 * A one-row batch of `classes` zeros under the options, so that every option check runs at
 * creation, and no loss is named like a key of the run's reply.
 */
export function probeRequest (options: RunOptions, classes: number): ScoreRequest {
  const input: LossInput = { logits: new Float32Array(classes), shape: [1, classes], labels: { kind: 'index', data: Int32Array.of(0), shape: [1] } }
  const request = scored(options, input)
  request.losses.forEach((loss, i) => {
    if (RUN_RESERVED.has(loss.label)) invalid(`losses[${i}].name = "${loss.label}" is reserved in a run (${[...RUN_RESERVED].join(', ')}); name the loss otherwise`)
  })
  return request
}

/**
 * One batch under its run's options: C must be the run's, and an option the batch repeats must
 * equal the run's. Per-class totals are always computed (the run keeps them); the hardest rows
 * when the run keeps them, at most as many as the batch has.
 */
export function batchRequest (body: BatchBody, input: LossInput, classes: number, stored: RunOptions): ScoreRequest {
  for (const [key, value] of Object.entries(body)) {
    if (key === 'logits' || key === 'labels') continue
    const run: unknown = (stored as Record<string, unknown>)[key]
    if (!isDeepStrictEqual(value, run)) invalid(`${key} = ${JSON.stringify(value)} does not match the run's ${key} = ${JSON.stringify(run ?? null)}`)
  }
  return runRequest(input, classes, stored)
}

/**
 * A decoded batch under its run's options, whichever transport brought it: a run's options are
 * the JSON API's fields, so this codec reads them for V2 batches too.
 */
export function runRequest (input: LossInput, classes: number, stored: RunOptions): ScoreRequest {
  const given = input.shape.length === 1 ? 1 : input.shape[1] as number
  if (given !== classes) invalid(`logits has ${given} classes; the run has ${classes}`)
  const frames = input.shape.length === 3 ? input.shape[2] as number : 1
  const rows = (input.shape[0] as number) * frames
  const hardest = stored.hardest === undefined ? undefined : Math.min(stored.hardest, rows)
  return scored({ ...stored, breakdown: true, hardest }, input)
}

interface Totals { loss: number | null, sum: number, normalizer: number }

function lossTotals (state: RunState, name: string): Totals {
  const totals = state.losses[name]
  if (totals === undefined) throw new Error(`the run has no loss named ${name}`)
  return { loss: totals.normalizer === 0 ? null : totals.sum / totals.normalizer, sum: totals.sum, normalizer: totals.normalizer }
}

export function encodeSummary (record: StoredSummary): RunListed {
  return {
    id: record.id,
    name: record.name,
    metadata: record.metadata,
    status: record.status,
    created: record.created,
    closed: record.closed,
    classes: record.classes,
    batches: record.batches,
    rows: record.rows
  }
}

/** Each loss's totals under its name, beside the schema's fixed fields. */
type Named<T> = T & Record<string, unknown>
type ClassRow = Named<RunReply['perClass'][number]>
export type NamedRun = Named<Omit<RunReply, 'perClass'>> & { perClass: ClassRow[] }
type DifferenceRow = Named<RunComparison['difference']['perClass'][number]>

/** A run's totals over every batch so far: means as Σ sum / Σ normalizer, per class as Σ sum / Σ count. */
export function encodeRun ({ record, state }: RunView): NamedRun {
  const names = Object.keys(state.losses)
  const perClass = Array.from(state.classCounts, (count, c) => {
    const row: ClassRow = { class: c, count }
    for (const name of names) {
      const sum = state.losses[name]?.classSums[c] as number
      row[name] = { sum, mean: count === 0 ? null : sum / count }
    }
    return row
  })
  const reply: NamedRun = {
    ...encodeSummary(record),
    options: record.options as Record<string, unknown>,
    losses: names,
    perClass
  }
  for (const name of names) reply[name] = lossTotals(state, name)
  if ((record.options as { hardest?: number }).hardest !== undefined) reply.hardest = state.hardest
  return withMetrics(reply, runMetrics(state, probeRequest(record.options as RunOptions, record.classes)))
}

interface ClassTotals { sum: number, mean: number | null }

const minus = (a: number | null, b: number | null): number | null => a === null || b === null ? null : b - a

/** The per-class metrics a breakdown gives (recall / precision / f1 softmax, ap sigmoid). */
const CLASS_METRICS = ['recall', 'precision', 'f1', 'ap'] as const

type Json = Record<string, unknown>

const scalar = (v: unknown): v is number | null => typeof v === 'number' || v === null

/** b − a of every scalar both `a` and `b` have under the same key (`rows` is a count, not a metric). */
function scalars (a: Json, b: Json, skip: readonly string[]): Record<string, number | null> {
  const out: Record<string, number | null> = {}
  for (const [key, x] of Object.entries(a)) {
    const y = b[key]
    if (!skip.includes(key) && scalar(x) && scalar(y)) out[key] = minus(x, y)
  }
  return out
}

/** b − a of the metrics both runs report: each scalar, each shared top-k, and the shot groups' accuracy and shared losses. */
function metricsDifference (a: Json, b: Json): { metrics: Json, shots?: Json } {
  const metrics: Json = scalars(a, b, ['rows'])
  const [ka, kb] = [a.topk, b.topk] as Array<Record<string, number> | undefined>
  if (ka !== undefined && kb !== undefined) metrics.topk = scalars(ka, kb, [])
  const [sa, sb] = [a.shots, b.shots] as Array<Record<string, Json> | undefined>
  if (sa === undefined || sb === undefined) return { metrics }
  const group = (x: Json, y: Json): Json => scalars(x, y, ['classes', 'rows'])
  return { metrics, shots: { many: group(sa.many as Json, sb.many as Json), medium: group(sa.medium as Json, sb.medium as Json), few: group(sa.few as Json, sb.few as Json) } }
}

/**
 * Two runs side by side, and b − a of the mean losses they share by name, overall and per class,
 * and, when both keep metrics, of the metrics, the per-class metrics and the shot groups.
 */
export function encodeRunComparison (a: RunView, b: RunView): RunComparison {
  const ra = encodeRun(a)
  const rb = encodeRun(b)
  if (ra.classes !== rb.classes) invalid(`run ${ra.id} has ${ra.classes} classes and run ${rb.id} ${rb.classes}: only runs of the same classes compare`)
  const shared = ra.losses.filter((name) => rb.losses.includes(name))
  const difference: Named<{ perClass: DifferenceRow[] }> = {
    perClass: ra.perClass.map((x, c) => {
      const y = rb.perClass[c] as ClassRow
      const row: DifferenceRow = { class: c }
      for (const name of shared) row[name] = minus((x[name] as ClassTotals).mean, (y[name] as ClassTotals).mean)
      for (const key of CLASS_METRICS) {
        const [u, v] = [x[key], y[key]]
        if (scalar(u) && scalar(v)) row[key] = minus(u, v)
      }
      return row
    })
  }
  for (const name of shared) difference[name] = minus((ra[name] as Totals).loss, (rb[name] as Totals).loss)
  if (ra.metrics !== undefined && rb.metrics !== undefined) Object.assign(difference, metricsDifference(ra.metrics as Json, rb.metrics as Json))
  return { a: ra, b: rb, difference }
}
