/**
 * Evaluation runs: batches scored with the run's options, each counted and recorded with its
 * statistics (its delta) in one store transaction, so any number of clients, processes and replicas
 * can add batches to one run and a retried batch is counted once; the store folds the deltas into
 * the run's state (src/store/types.ts). The codecs build each batch's ScoreRequest from the run's
 * options; this layer scores it, fingerprints it and encodes its delta.
 */
import { createHash } from 'node:crypto'
import { ConflictError, invalid, NotFoundError } from '../../errors.js'
import type { LossInput } from '../../losses/index.js'
import type { NewRun, Progress, RunPage, RunRecord, RunStore } from '../../store/index.js'
import type { Dataplane } from '../index.js'
import type { ScoreRequest, ScoreResult } from '../types.js'
import { batchState, currentState, encodeState, emptyState, foldStates, type RunState } from './state.js'

export type { RunHardRow, RunState } from './state.js'
export { runMetrics } from './metrics.js'
export type { RunPage, RunRecord, RunSummary } from '../../store/index.js'

export interface RunLimits {
  /** Open runs at most (MAX_RUNS). */
  readonly maxOpen: number
}

export interface NewRunRequest {
  readonly name: string | undefined
  readonly metadata: Record<string, unknown>
  readonly classes: number
  /** The scoring options, as the codec that created the run will read them back for each batch. */
  readonly options: unknown
  /** The names of the losses each batch is scored with. */
  readonly losses: readonly string[]
}

export interface BatchOutcome {
  readonly result: ScoreResult
  readonly progress: Progress
  /** The batch id was added before with the same batch: it is counted once. */
  readonly replayed: boolean
}

/** What never changes about a run once it is created: what a batch is scored with. */
export type RunDefinition = Pick<RunRecord, 'id' | 'classes' | 'options'>

/** Definitions kept per process; past this many the oldest go first. */
const DEFINITIONS = 10_000

/** A run as stored, with its statistics decoded. */
export interface RunView {
  readonly record: RunRecord
  readonly state: RunState
}

const BATCH_ID = /^[\w.:-]{1,128}$/

/** A caller's batch id, named `field` as the caller's transport spells it (`batchId`, `parameters.batch_id`). */
export function checkBatchId (batchId: string, field: string): void {
  if (!BATCH_ID.test(batchId)) invalid(`${field} = ${JSON.stringify(batchId.length > 40 ? batchId.slice(0, 40) + '…' : batchId)} must be 1 to 128 of A-Z a-z 0-9 . _ : -`)
}

/** sha256 of the batch as scored: shape, logits and labels, so equal batches match across transports. */
export function batchDigest (input: LossInput): string {
  const hash = createHash('sha256')
  hash.update(JSON.stringify([input.shape, input.labels.kind, input.labels.shape]))
  hash.update(Buffer.from(input.logits.buffer, input.logits.byteOffset, input.logits.byteLength))
  const { data } = input.labels
  hash.update(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
  return hash.digest('hex')
}

/** The k of a run's hardest rows, as both codecs store it in the run's options. */
function hardestOf (options: unknown): number {
  return (options as { hardest?: number } | null)?.hardest ?? 0
}

/** A run that is closed refuses batches: a conflict, told apart so that metrics can count it. */
export class RunClosedError extends ConflictError {}

export type StoreHealth = { readonly status: 'ok', readonly dialect: string } | { readonly status: 'unavailable', readonly dialect: string, readonly reason: string }

export class Runs {
  /** Run id to definition: a batch then needs no read of its run before its transaction. */
  private readonly definitions = new Map<string, RunDefinition>()

  constructor (private readonly store: RunStore, private readonly dataplane: Dataplane, private readonly limits: RunLimits) {}

  /**
   * The run's classes and options, cached: they never change, and a run deleted meanwhile (here or
   * by another replica) is still refused, by putBatch's transaction, as not found.
   */
  async definition (id: string): Promise<RunDefinition> {
    const known = this.definitions.get(id)
    if (known !== undefined) return known
    const { classes, options } = await this.get(id)
    const definition = { id, classes, options }
    if (this.definitions.size >= DEFINITIONS) this.definitions.delete(this.definitions.keys().next().value as string)
    this.definitions.set(id, definition)
    return definition
  }

  async create (run: NewRunRequest): Promise<RunRecord> {
    const record: NewRun = {
      metadata: run.metadata,
      options: run.options,
      classes: run.classes,
      state: encodeState(emptyState(run.classes, run.losses))
    }
    if (run.name !== undefined) record.name = run.name
    return await this.store.createRun(record, this.limits.maxOpen)
  }

  async get (id: string): Promise<RunRecord> {
    const record = await this.store.getRun(id)
    if (record === undefined) throw new NotFoundError(`run ${JSON.stringify(id)} not found`)
    return record
  }

  async view (id: string): Promise<RunView> {
    const record = await this.get(id)
    return { record, state: currentState(record.state, record.pending, hardestOf(record.options)) }
  }

  async list (limit: number, cursor: string | undefined): Promise<RunPage> {
    return await this.store.listRuns(cursor === undefined ? { limit } : { limit, cursor })
  }

  async close (id: string): Promise<RunRecord> {
    const record = await this.store.closeRun(id)
    if (record === undefined) throw new NotFoundError(`run ${JSON.stringify(id)} not found`)
    return record
  }

  async delete (id: string): Promise<void> {
    this.definitions.delete(id)
    if (!await this.store.deleteRun(id)) throw new NotFoundError(`run ${JSON.stringify(id)} not found`)
  }

  /**
   * Scores one batch of `run` and puts its delta. The request must ask for the per-class totals and, when
   * the run keeps hardest rows, for them (the codec builds it from the run's options). A retried
   * batch id with the same batch is scored again, answered with the progress it had when it was
   * counted, and not counted twice; with another batch it is a conflict.
   */
  async putBatch (run: RunDefinition, batchId: string, request: ScoreRequest): Promise<BatchOutcome> {
    const result = await this.dataplane.score(request)
    const rows = request.input.shape[0] as number
    const hardest = hardestOf(run.options)
    const delta = encodeState(batchState(result, run.classes, batchId))
    const outcome = await this.store.putBatch(run.id, batchId, batchDigest(request.input), rows, delta,
      (state, deltas) => foldStates(state, deltas, hardest))
    switch (outcome.kind) {
      case 'added':
      case 'replayed':
        return { result, progress: outcome.progress, replayed: outcome.kind === 'replayed' }
      case 'conflict':
        throw new ConflictError(outcome.message)
      case 'closed':
        throw new RunClosedError(`run ${run.id} is closed: it takes no more batches`)
      case 'missing':
        throw new NotFoundError(`run ${JSON.stringify(run.id)} not found`)
    }
  }

  async purge (olderThanDays: number): Promise<number> {
    return await this.store.purgeClosed(olderThanDays)
  }

  async ping (): Promise<void> {
    await this.store.ping()
  }

  async openRuns (): Promise<number> {
    return await this.store.openRuns()
  }

  /** Whether the store answers within `timeoutMs`; a readiness probe must not hang on a lost database. */
  async health (timeoutMs: number): Promise<StoreHealth> {
    const { dialect } = this.store
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await Promise.race([this.store.ping(), late])
      return { status: 'ok', dialect }
    } catch (err) {
      return { status: 'unavailable', dialect, reason: err instanceof Error ? err.message : String(err) }
    } finally {
      clearTimeout(timer)
    }
  }
}
