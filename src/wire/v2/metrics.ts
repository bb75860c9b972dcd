/**
 * The evaluation metrics over V2: `parameters.metrics = true` with the options as parameters
 * (`topk` an integer or a comma-separated string such as "1,5", since V2 parameters are scalars), the
 * shot groups' training counts as the input `shot_counts`, and the report as `metrics_*` outputs.
 */
import { invalid } from '../../errors.js'
import type { MetricsRequest, ScoreResult, ScoredMetrics } from '../../dataplane/index.js'
import type { MetricsReport, PerClass } from '../../evaluation/stats.js'
import type { ShotGroup } from '../../evaluation/shots.js'
import type { Parameters } from '../../../schemas/v2.js'
import type { MetricNeed } from './metric-outputs.js'
import { METRICS_PARAMETERS } from './metric-outputs.js'
import { booleanParam, numberParam, stringParam } from './parameters.js'
import { describe, readCounts, type RawInput } from './tensors.js'

/** `parameters.topk`: one k as a number, or several as "1,5" (a JSON list in a string, "[1, 5]", reads the same). */
function topkParam (parameters: Parameters): number[] | undefined {
  const value = parameters.topk
  if (value === undefined) return undefined
  if (typeof value === 'number') return [value]
  const text = typeof value === 'string' ? value.trim().replace(/^\[(.*)\]$/, '$1') : ''
  const parts = text.split(',').map((p) => p.trim())
  if (typeof value !== 'string' || parts.some((p) => !/^-?\d+$/.test(p))) {
    invalid(`parameters.topk = ${describe(value)} must be an integer or a comma-separated list of integers such as "1,5"`)
  }
  return parts.map(Number)
}

function optionalNumber (parameters: Parameters, key: string, integer = false): number | undefined {
  return parameters[key] === undefined ? undefined : numberParam(parameters, key, 0, integer)
}

/** The metrics a V2 request asks for; undefined without `parameters.metrics = true` (an option without it is refused). */
export function decodeMetricsParameters (parameters: Parameters, raw: ReadonlyMap<string, RawInput>): MetricsRequest | undefined {
  const shotCounts = raw.get('shot_counts')
  if (booleanParam(parameters, 'metrics', '') !== true) {
    const stray = METRICS_PARAMETERS.find((key) => key !== 'metrics' && parameters[key] !== undefined)
    if (stray !== undefined) invalid(`parameters.${stray} needs parameters.metrics = true`)
    if (shotCounts !== undefined) invalid(`${shotCounts.label} needs parameters.metrics = true`)
    return undefined
  }
  const many = optionalNumber(parameters, 'shots_many')
  const few = optionalNumber(parameters, 'shots_few')
  if (shotCounts === undefined && (many !== undefined || few !== undefined)) invalid('parameters.shots_many and shots_few need the input shot_counts')
  const classCounts = raw.get('class_counts')
  const confusion = parameters.confusion === undefined ? undefined : stringParam(parameters, 'confusion', ['dense', 'sparse'], 'dense')
  return {
    options: {
      topk: topkParam(parameters),
      calibrationBins: optionalNumber(parameters, 'calibration_bins', true),
      confusion,
      shots: shotCounts === undefined ? undefined : { counts: readCounts(shotCounts), many, few }
    },
    trainingCounts: classCounts === undefined ? undefined : readCounts(classCounts)
  }
}

/** The needs a decoded request meets, for the output selection. */
export function metricNeeds (metrics: MetricsRequest | undefined, activation: string, shape: readonly number[], breakdown: boolean): MetricNeed[] {
  if (metrics === undefined) return []
  if (activation === 'sigmoid') {
    const needs: MetricNeed[] = shape.length === 1 ? ['metrics', 'metrics_binary', 'metrics_calibrated', 'metrics_ranked'] : ['metrics', 'metrics_multilabel', 'metrics_ranked']
    if (breakdown) needs.push('metrics_breakdown_sigmoid')
    return needs
  }
  const needs: MetricNeed[] = ['metrics', 'metrics_multiclass', 'metrics_calibrated']
  if (metrics.options.confusion !== undefined) needs.push('metrics_confusion')
  if (metrics.options.shots !== undefined || metrics.trainingCounts !== undefined) needs.push('metrics_shots')
  if (breakdown) needs.push('metrics_breakdown_softmax')
  return needs
}

type Tensor = { values: Float64Array, shape: number[] }

const scalar = (v: number | null | undefined): Tensor => ({ values: Float64Array.of(v ?? NaN), shape: [1] })
const rowsOf = (values: number[][], width: number): Tensor => ({ values: Float64Array.from(values.flat()), shape: [values.length, width] })

/** Columns classes, rows, accuracy, then each loss's mean in the order of the result's losses; rows many, medium, few. */
function shotsTensor (report: MetricsReport, losses: readonly string[]): Tensor {
  if (report.kind !== 'multiclass' || report.shots === undefined) throw new Error('no shot groups were computed')
  const { many, medium, few } = report.shots
  const row = (g: ShotGroup): number[] => [g.classes, g.rows, g.accuracy ?? NaN, ...losses.map((name) => g[name] ?? NaN)]
  return rowsOf([row(many), row(medium), row(few)], 3 + losses.length)
}

function perClassTensor (perClass: PerClass | undefined, field: 'recall' | 'precision' | 'f1' | 'ap'): Tensor {
  if (perClass === undefined) throw new Error('no per-class metrics were computed')
  const values = perClass.kind === 'multiclass'
    ? Float64Array.from(perClass[field as 'recall'])
    : Float64Array.from(perClass.ap, (v) => v ?? NaN)
  return { values, shape: [values.length] }
}

/** One metrics output's values (INT64 ones as integral doubles, NaN for the JSON API's null) and shape. */
export function metricTensor (name: string, result: ScoreResult): Tensor {
  const metrics: ScoredMetrics | undefined = result.metrics
  // The output requests are checked against what the request asked for before anything is scored.
  if (metrics === undefined) throw new Error(`output ${name} was not computed`)
  const { report, perClass } = metrics
  const r = report as unknown as Record<string, unknown>
  switch (name) {
    case 'metrics_topk_k': return { values: Float64Array.from(Object.keys(r.topk as object), Number), shape: [Object.keys(r.topk as object).length] }
    case 'metrics_topk': return { values: Float64Array.from(Object.values(r.topk as Record<string, number>)), shape: [Object.keys(r.topk as object).length] }
    case 'metrics_confusion': {
      // Dense: C columns; sparse: [true, predicted, count] triples, none when the batch has no rows.
      const rows = r.confusion as number[][]
      return rowsOf(rows, rows[0]?.length ?? 3)
    }
    case 'metrics_shots': return shotsTensor(report, result.losses.map((l) => l.name))
    case 'metrics_reliability': return rowsOf((r.reliability as Array<Record<string, number | null>>).map((b) => [b.lower, b.upper, b.count, b.confidence, b.accuracy].map((v) => v ?? NaN)), 5)
    case 'metrics_per_class_recall': return perClassTensor(perClass, 'recall')
    case 'metrics_per_class_precision': return perClassTensor(perClass, 'precision')
    case 'metrics_per_class_f1': return perClassTensor(perClass, 'f1')
    case 'metrics_per_class_ap': return perClassTensor(perClass, 'ap')
  }
  const field = REPORT_FIELDS[name]
  if (field === undefined) throw new Error(`no metrics output ${name}`)
  return scalar(r[field] as number | null)
}

const REPORT_FIELDS: Readonly<Record<string, string>> = {
  metrics_rows: 'rows',
  metrics_accuracy: 'accuracy',
  metrics_mean_class_accuracy: 'meanClassAccuracy',
  metrics_precision: 'precision',
  metrics_recall: 'recall',
  metrics_f1: 'f1',
  metrics_micro_f1: 'microF1',
  metrics_map: 'mAP',
  metrics_ap: 'ap',
  metrics_auroc: 'auroc',
  metrics_ece: 'ece',
  metrics_mce: 'mce',
  metrics_rmsce: 'rmsce',
  metrics_brier: 'brier'
}
