/**
 * The metrics of a JSON body and reply: `metrics: true` and its options as the dataplane's
 * MetricsRequest, and the scored metrics as the reply's `metrics` object plus the per-class fields
 * `breakdown` adds. One call each way, so that every loss route gets them the same.
 */
import { invalid } from '../../errors.js'
import type { MetricsRequest, ScoredMetrics } from '../../dataplane/index.js'
import type { MetricsReport } from '../../evaluation/stats.js'
import type { ShotGroups } from '../../evaluation/shots.js'
import type { ClassBalance } from '../../losses/index.js'
import type { MetricsBody, MetricsReply } from '../../../schemas/metrics.js'

const OPTIONS = ['topk', 'calibrationBins', 'confusion', 'shots'] as const

/** The metrics a body asks for; undefined without `metrics: true` (an option without it is refused). */
export function decodeMetrics (body: MetricsBody & { classBalance?: ClassBalance | undefined }): MetricsRequest | undefined {
  if (body.metrics !== true) {
    const stray = OPTIONS.find((field) => body[field] !== undefined)
    if (stray !== undefined) invalid(`${stray} needs metrics: true`)
    return undefined
  }
  return {
    options: { topk: body.topk, calibrationBins: body.calibrationBins, confusion: body.confusion, shots: body.shots },
    trainingCounts: body.classBalance?.counts
  }
}

type Json = Record<string, unknown>

/** OLTR's groups with the fields the reply documents: classes, rows, accuracy and one mean per loss. */
function shotsJson (shots: ShotGroups): Json {
  const group = ({ rowAccuracy: _, ...rest }: Json): Json => rest
  return { many: group(shots.many), medium: group(shots.medium), few: group(shots.few) }
}

function reportJson (report: MetricsReport): MetricsReply {
  const json = report.kind !== 'multiclass' || report.shots === undefined ? report : { ...report, shots: shotsJson(report.shots) }
  return json as unknown as MetricsReply
}

interface WithMetrics { perClass?: readonly object[] | undefined, metrics?: MetricsReply | undefined }

/**
 * `reply`, a reply being built, given `metrics` when they were scored (a batch's, or a run's so far),
 * and each of its perClass entries (with breakdown) the class's recall / precision / f1 (softmax) or
 * ap (sigmoid). Set on the reply rather than spread into a copy, which costs microseconds on Node 20.
 */
export function withMetrics<T extends WithMetrics> (reply: T, metrics: Omit<ScoredMetrics, 'stats'> | undefined): T {
  if (metrics === undefined) return reply
  const target: WithMetrics = reply
  const { perClass } = metrics
  if (perClass !== undefined && target.perClass !== undefined) {
    target.perClass = target.perClass.map((entry, c) => perClass.kind === 'multiclass'
      ? { ...entry, recall: perClass.recall[c], precision: perClass.precision[c], f1: perClass.f1[c] }
      : { ...entry, ap: perClass.ap[c] })
  }
  target.metrics = reportJson(metrics.report)
  return reply
}
