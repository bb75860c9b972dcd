/**
 * The metrics outputs of every V2 model, what each needs the request to ask for, the metrics
 * parameters and their names in messages. Declarations only: models.ts and parameters.ts read them,
 * metrics.ts decodes the parameters and fills the outputs.
 */
import type { OutputDatatype } from './models.js'

/** The JSON API's names of the metrics options, as V2 spells them in messages. */
export const METRICS_V2_NAMES: Readonly<Record<string, string>> = {
  topk: 'parameters.topk',
  calibrationBins: 'parameters.calibration_bins',
  confusion: 'parameters.confusion',
  shots: 'shot_counts',
  'shots.counts': 'shot_counts',
  'shots.many': 'parameters.shots_many',
  'shots.few': 'parameters.shots_few'
}

export const METRICS_PARAMETERS = ['metrics', 'topk', 'calibration_bins', 'confusion', 'shots_many', 'shots_few']

/** What makes a metrics output exist: the report's kind (some outputs belong to two), and for some an option or breakdown. */
export type MetricNeed = 'metrics' | 'metrics_multiclass' | 'metrics_multilabel' | 'metrics_binary' | 'metrics_calibrated' | 'metrics_ranked' |
  'metrics_confusion' | 'metrics_shots' | 'metrics_breakdown_softmax' | 'metrics_breakdown_sigmoid'

export const METRIC_NEEDS: Readonly<Record<MetricNeed, string>> = {
  metrics: 'parameters.metrics = true',
  metrics_multiclass: 'parameters.metrics = true with activation "softmax"',
  metrics_multilabel: 'parameters.metrics = true with activation "sigmoid" and logits [N, C]',
  metrics_binary: 'parameters.metrics = true with activation "sigmoid" and logits [N]',
  metrics_calibrated: 'parameters.metrics = true with activation "softmax", or "sigmoid" with logits [N]',
  metrics_ranked: 'parameters.metrics = true with activation "sigmoid"',
  metrics_confusion: 'parameters.metrics = true and parameters.confusion, softmax',
  metrics_shots: 'parameters.metrics = true and the input shot_counts (or class_counts), softmax',
  metrics_breakdown_softmax: 'parameters.metrics = true and parameters.breakdown = true, softmax',
  metrics_breakdown_sigmoid: 'parameters.metrics = true and parameters.breakdown = true, sigmoid'
}

export interface MetricOutput {
  readonly name: string
  readonly datatype: OutputDatatype
  readonly shape: readonly number[]
  readonly needs: MetricNeed
}

const out = (name: string, needs: MetricNeed, shape: readonly number[] = [1], datatype: OutputDatatype = 'FP64'): MetricOutput => ({ name: `metrics_${name}`, datatype, shape, needs })

/** Every metrics output, in the order a request without `outputs` gets those it qualifies for (README: Metrics over V2). */
export const METRIC_OUTPUTS: readonly MetricOutput[] = [
  out('rows', 'metrics', [1], 'INT64'),
  out('accuracy', 'metrics_calibrated'),
  out('topk_k', 'metrics_multiclass', [-1], 'INT64'),
  out('topk', 'metrics_multiclass', [-1]),
  out('mean_class_accuracy', 'metrics_multiclass'),
  out('precision', 'metrics_multilabel'),
  out('recall', 'metrics_multilabel'),
  out('f1', 'metrics_multilabel'),
  out('micro_f1', 'metrics_multilabel'),
  out('map', 'metrics_multilabel'),
  out('ap', 'metrics_binary'),
  out('auroc', 'metrics_ranked'),
  out('ece', 'metrics_calibrated'),
  out('mce', 'metrics_calibrated'),
  out('rmsce', 'metrics_calibrated'),
  out('reliability', 'metrics_calibrated', [-1, 5]),
  out('brier', 'metrics_calibrated'),
  out('confusion', 'metrics_confusion', [-1, -1], 'INT64'),
  out('shots', 'metrics_shots', [3, -1]),
  out('per_class_recall', 'metrics_breakdown_softmax', [-1]),
  out('per_class_precision', 'metrics_breakdown_softmax', [-1]),
  out('per_class_f1', 'metrics_breakdown_softmax', [-1]),
  out('per_class_ap', 'metrics_breakdown_sigmoid', [-1])
]
