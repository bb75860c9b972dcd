/**
 * Softmax statistics in one pass over the rows: per row the argmax, the target's rank (for every
 * top-k at once), the softmax denominator and Σ p² (Brier), in float64 from the float32 logits.
 * Rows are rows of [N, C], or frames (n, t) of [N, C, T] read in place with stride T.
 */
import { float64 } from '../arrays.js'
import type { Layout } from '../losses/checks.js'
import type { RowStats } from '../losses/rowstats.js'
import type { LossInput } from '../losses/types.js'
import { bucket, linspace32 } from './bins.js'
import type { MetricsOptions } from './options.js'
import type { ConfusionStats, MulticlassStats } from './types.js'

/**
 * The target of a row is its class index, or for probability labels the argmax of the target row
 * (first maximum). Rows labelled `ignoreIndex` are skipped, as torchmetrics' ignore_index does.
 * Ties: the prediction is the first maximal logit (torch.argmax); for top-k a tied class ranks
 * before the target when its index is lower, i.e. the k first of a stable descending sort.
 * torch.topk picks among tied values in no documented order (CPU: std::partial_sort /
 * nth_element), so only ties that straddle the k-th place can differ from it.
 * `rows`, the kernel's float32 softmax sums Σ e and Σ e² when the losses were scored with them, spare
 * the loop its exps (the costly part); without them it computes both in float64.
 */
export function collectMulticlass (input: LossInput, layout: Layout, ignoreIndex: number, options: MetricsOptions, rows?: RowStats): MulticlassStats {
  const { classes } = layout
  const count = layout.rows
  const frames = layout.frames ?? 1
  const stride = layout.frames ?? 1
  const x = input.logits
  const { labels } = input
  const index = labels.kind === 'index' ? labels.data : undefined
  const dense = labels.kind === 'dense' ? labels.data : undefined
  const topk = options.topk
  const kMax = topk.length > 0 ? (topk[topk.length - 1] as number) : 0
  // One view for every small array (src/arrays.ts: a typed array of its own costs 1-5 µs).
  const bins = options.calibrationBins + 1
  const slab = float64(kMax + topk.length + 3 * classes + 3 * bins)
  const rankCount = slab.subarray(0, kMax)
  const hits = slab.subarray(kMax, kMax + topk.length)
  const perClass = kMax + topk.length
  const target = slab.subarray(perClass, perClass + classes)
  const predicted = slab.subarray(perClass + classes, perClass + 2 * classes)
  const correct = slab.subarray(perClass + 2 * classes, perClass + 3 * classes)
  const perBin = perClass + 3 * classes
  const calibration = {
    bins: options.calibrationBins,
    count: slab.subarray(perBin, perBin + bins),
    confidence: slab.subarray(perBin + bins, perBin + 2 * bins),
    accuracy: slab.subarray(perBin + 2 * bins, perBin + 3 * bins)
  }
  const grid = linspace32(options.calibrationBins + 1)
  const dense2 = options.confusion === 'dense' ? new Float64Array(classes * classes) : undefined
  const sparse = options.confusion === 'sparse' ? new Map<number, number>() : undefined
  let kept = 0
  let brier = 0
  for (let r = 0; r < count; r++) {
    const n = Math.floor(r / frames)
    const base = n * classes * frames + (r - n * frames)
    let y: number
    if (index !== undefined) {
      y = index[r] as number
      if (y === ignoreIndex) continue
    } else {
      y = 0
      let best = -Infinity
      for (let c = 0, k = base; c < classes; c++, k += stride) {
        const t = (dense as Float32Array)[k] as number
        if (t > best) { best = t; y = c }
      }
    }
    const xy = x[base + y * stride] as number
    let max = -Infinity
    let arg = 0
    let rank = 0
    for (let c = 0, k = base; c < classes; c++, k += stride) {
      const v = x[k] as number
      if (v > max) { max = v; arg = c }
      if (v > xy || (v === xy && c < y)) rank++
    }
    let s = 0
    let q = 0
    if (rows === undefined) {
      for (let c = 0, k = base; c < classes; c++, k += stride) {
        const e = Math.exp((x[k] as number) - max)
        s += e
        q += e * e
      }
    } else {
      s = rows.sum[r] as number
      q = rows.sumSq[r] as number
    }
    const py = Math.exp(xy - max) / s
    brier += q / (s * s) - 2 * py + 1
    if (rank < kMax) rankCount[rank] = (rankCount[rank] as number) + 1
    kept++
    target[y] = (target[y] as number) + 1
    predicted[arg] = (predicted[arg] as number) + 1
    const hit = arg === y ? 1 : 0
    if (hit === 1) correct[y] = (correct[y] as number) + 1
    // torchmetrics bins float32 confidences (MulticlassCalibrationError: confidences.float()).
    const conf = Math.fround(1 / s)
    const b = bucket(conf, grid)
    calibration.count[b] = (calibration.count[b] as number) + 1
    calibration.confidence[b] = (calibration.confidence[b] as number) + conf
    calibration.accuracy[b] = (calibration.accuracy[b] as number) + hit
    const cell = y * classes + arg
    if (dense2 !== undefined) dense2[cell] = (dense2[cell] as number) + 1
    else if (sparse !== undefined) sparse.set(cell, (sparse.get(cell) ?? 0) + 1)
  }
  let cumulative = 0
  for (let i = 0, k = 0; i < topk.length; i++) {
    for (; k < (topk[i] as number); k++) cumulative += rankCount[k] as number
    hits[i] = cumulative
  }
  const confusion: ConfusionStats | undefined = dense2 !== undefined
    ? { form: 'dense', counts: dense2 }
    : sparse !== undefined ? { form: 'sparse', counts: sparse } : undefined
  return { kind: 'multiclass', classes, rows: kept, topk, hits, target, predicted, correct, calibration, brier, confusion }
}
