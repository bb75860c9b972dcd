/**
 * The evaluation metrics of a scored batch (src/evaluation): the options checked against the batch,
 * the losses' kernel call widened by the softmax row statistics the metrics read, then the mergeable
 * statistics, the report computed from them and, with `breakdown`, the per-class metrics.
 */
import { invalid } from '../errors.js'
import { collect, computeMetrics, perClassMetrics, type MetricStats, type MetricsReport, type PerClass } from '../evaluation/stats.js'
import { metricsOptions, type MetricsOptions, type RawMetricsOptions } from '../evaluation/options.js'
import { withRowStats, type LossResult, type Prepared, type RowStats } from '../losses/index.js'
import type { ScoredLoss, ScoreRequest } from './types.js'

export interface MetricsRequest {
  readonly options: RawMetricsOptions
  /** `classBalance.counts` (training samples per class): the shot groups' counts when `options.shots` is absent. */
  readonly trainingCounts: ArrayLike<number> | undefined
}

export interface ScoredMetrics {
  /** Mergeable: the runs add these up over batches (src/evaluation/merge.ts). */
  readonly stats: MetricStats
  readonly report: MetricsReport
  /** With `breakdown`. */
  readonly perClass: PerClass | undefined
}

/** The options of a request's metrics for its batch; the checks name fields through the request's Namer. */
export function metricsOf (request: ScoreRequest): MetricsOptions | undefined {
  const { metrics, input, analysis, name } = request
  if (metrics === undefined) return undefined
  const classes = input.shape.length === 1 ? 1 : input.shape[1] ?? 1
  const raw = metrics.options
  if (analysis.activation === 'sigmoid') {
    for (const field of ['topk', 'confusion', 'shots'] as const) {
      if (raw[field] !== undefined) invalid(`${name(field)} applies to activation "softmax" only`)
    }
    return metricsOptions(raw, classes, name)
  }
  const counts = metrics.trainingCounts
  const shots = raw.shots ?? (counts === undefined ? undefined : { counts })
  return metricsOptions(shots === raw.shots ? raw : { ...raw, shots }, classes, name)
}

/** The losses' plan, with the softmax row statistics added for softmax metrics. */
export function planWithMetrics (request: ScoreRequest, prepared: Prepared<LossResult[]>): Prepared<{ value: LossResult[], rows: RowStats | undefined }> {
  if (request.analysis.activation === 'softmax') return withRowStats(prepared, request.input)
  return { call: prepared.call, finish: (outputs, offset) => ({ value: prepared.finish(outputs, offset), rows: undefined }) }
}

/** Per loss, its per-class sums (the shot groups' mean losses), from the breakdown when it was asked for. */
function perClassLoss (losses: readonly ScoredLoss[], classTotals: (loss: ScoredLoss) => ReadonlyArray<{ sum: number }>): Record<string, Float64Array> {
  return Object.fromEntries(losses.map((loss) => [loss.name, Float64Array.from(loss.perClass ?? classTotals(loss), (c) => c.sum)]))
}

export function scoreMetrics (
  request: ScoreRequest, options: MetricsOptions, losses: readonly ScoredLoss[], rows: RowStats | undefined,
  classTotals: (loss: ScoredLoss) => ReadonlyArray<{ sum: number }>
): ScoredMetrics {
  const { input, analysis } = request
  const stats = collect(input, analysis.activation, analysis.ignoreIndex, options, rows)
  const report = computeMetrics(stats, options, options.shots === undefined ? undefined : perClassLoss(losses, classTotals))
  return { stats, report, perClass: analysis.breakdown ? perClassMetrics(stats) : undefined }
}
