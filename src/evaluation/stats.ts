/**
 * The evaluation metrics' entry points: collect the statistics of one batch, merge them, compute
 * the report, store them. Pure typed-array JS; knows nothing of tfjs or HTTP.
 *
 * Which metrics a batch gets follows its shape and activation: softmax [N, C] or [N, C, T]
 * (every frame one sample, torchmetrics multidim_average="global") → multiclass; sigmoid [N, C] →
 * multi-label; sigmoid [N] → binary.
 */
import { checkIndexLabels, checkInput } from '../losses/checks.js'
import type { RowStats } from '../losses/rowstats.js'
import type { Activation, LossInput } from '../losses/types.js'
import { collectMulticlass } from './multiclass.js'
import type { MetricsOptions } from './options.js'
import { collectBinary, collectMultilabel } from './sigmoid.js'
import type { MetricStats } from './types.js'

export type { BinaryStats, MetricStats, MulticlassStats, MultilabelStats } from './types.js'
export { merge } from './merge.js'
export { computeMetrics, perClassMetrics, type MetricsReport, type PerClass } from './report.js'
export { decodeStats, encodeStats } from './codec.js'

/** `rows`: softmax only, the kernel's row statistics of this batch (losses/rowstats.ts), which spare collect its exps. */
export function collect (input: LossInput, activation: Activation, ignoreIndex: number, options: MetricsOptions, rows?: RowStats): MetricStats {
  const layout = checkInput(input, activation)
  const { labels } = input
  if (labels.kind === 'index') checkIndexLabels(labels.data, labels.shape, layout.classes, ignoreIndex)
  if (activation === 'softmax') return collectMulticlass(input, layout, ignoreIndex, options, rows)
  if (input.shape.length === 1) return collectBinary(input, layout, options)
  return collectMultilabel(input, layout, ignoreIndex, options)
}
