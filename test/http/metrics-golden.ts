/**
 * The torchmetrics 1.2.0 cases of test/golden/metrics.json as loss-route requests: a JSON body and a
 * V2 request per case, the V2 outputs read back into the JSON reply's `metrics` shape, and the
 * comparison with the fixture (counts, bin edges and confusion exact; other numbers within
 * |d| <= 1e-6 + 1e-5 |want|, as test/unit/evaluation/golden.test.ts).
 */
import type { InjectOptions } from 'fastify'
import { fixture, type MetricsCase } from '../unit/evaluation/fixture.js'
import { flatten, materialize } from '../golden/inputs.js'
import { binaryRequest, type Tensor, type V2Reply } from './v2/client.js'
import { shapeOf } from './v2/golden.js'

export { compare, worst } from '../unit/evaluation/fixture.js'

/** `thresholds` is a run option (binned AP / AUROC), not a request field: those cases stay in the unit suite. */
export const cases: MetricsCase[] = fixture.cases.filter((c) => c.request.options?.thresholds === undefined)

/** The case as a /loss/compare body with metrics and breakdown. */
export function jsonBody (c: MetricsCase): Record<string, unknown> {
  const { request } = c
  const body: Record<string, unknown> = {
    logits: materialize(request.logits),
    labels: materialize(request.labels),
    activation: request.activation,
    metrics: true,
    breakdown: true,
    ...request.options
  }
  if (request.ignoreIndex !== undefined) body.ignoreIndex = request.ignoreIndex
  return body
}

/** The case as a V2 request to model compare, every input binary, outputs as JSON. */
export function v2Request (c: MetricsCase): InjectOptions {
  const { request } = c
  const logits = materialize(request.logits)
  const labels = materialize(request.labels)
  const tensors: Tensor[] = [
    { name: 'logits', datatype: 'FP32', shape: shapeOf(logits), values: flatten(logits) },
    { name: 'labels', datatype: request.labelKind === 'index' ? 'INT64' : 'FP32', shape: shapeOf(labels), values: flatten(labels) }
  ]
  const parameters: Record<string, string | number | boolean> = { activation: request.activation, metrics: true, breakdown: true }
  if (request.ignoreIndex !== undefined) parameters.ignore_index = request.ignoreIndex
  const { topk, calibrationBins, confusion, shots } = request.options ?? {}
  if (topk !== undefined) parameters.topk = topk.join(',')
  if (calibrationBins !== undefined) parameters.calibration_bins = calibrationBins
  if (confusion !== undefined) parameters.confusion = confusion
  if (shots !== undefined) {
    tensors.push({ name: 'shot_counts', datatype: 'FP64', shape: [shots.counts.length], values: shots.counts })
    if (shots.many !== undefined) parameters.shots_many = shots.many
    if (shots.few !== undefined) parameters.shots_few = shots.few
  }
  return binaryRequest('/v2/models/compare/infer', tensors, { parameters })
}

type Json = Record<string, any>

/** Rows of a [rows, width] output. */
function matrix (values: Array<number | null>, shape: number[]): Array<Array<number | null>> {
  const width = shape[1] ?? 1
  return Array.from({ length: shape[0] ?? 0 }, (_, i) => values.slice(i * width, (i + 1) * width))
}

/** The metrics_* outputs of a V2 reply in the JSON reply's shape: `metrics` and breakdown's per-class fields. */
export function v2Metrics (reply: V2Reply): { metrics: Json, perClass: Json } {
  const get = (name: string): Array<number | null> | undefined => reply.outputs.get(`metrics_${name}`)?.values
  const one = (name: string): number | null | undefined => get(name)?.[0]
  const metrics: Json = {}
  const kind = reply.outputs.has('metrics_topk') ? 'multiclass' : reply.outputs.has('metrics_map') ? 'multilabel' : 'binary'
  metrics.kind = kind
  metrics.rows = one('rows')
  if (kind !== 'multilabel') metrics.accuracy = one('accuracy')
  if (kind === 'multiclass') {
    const k = get('topk_k') ?? []
    const v = get('topk') ?? []
    metrics.topk = Object.fromEntries(k.map((kk, i) => [String(kk), v[i]]))
    metrics.meanClassAccuracy = one('mean_class_accuracy')
  }
  if (kind === 'multilabel') {
    for (const [field, name] of [['precision', 'precision'], ['recall', 'recall'], ['f1', 'f1'], ['microF1', 'micro_f1'], ['mAP', 'map'], ['auroc', 'auroc']]) metrics[field as string] = one(name as string)
  }
  if (kind !== 'multilabel') {
    metrics.ece = one('ece')
    metrics.mce = one('mce')
    metrics.rmsce = one('rmsce')
    const bins = reply.outputs.get('metrics_reliability')
    if (bins !== undefined) metrics.reliability = matrix(bins.values, bins.shape).map(([lower, upper, count, confidence, accuracy]) => ({ lower, upper, count, confidence, accuracy }))
  }
  if (kind === 'binary') {
    metrics.ap = one('ap')
    metrics.auroc = one('auroc')
  }
  if (kind !== 'multilabel') metrics.brier = one('brier')
  const confusion = reply.outputs.get('metrics_confusion')
  if (confusion !== undefined) metrics.confusion = matrix(confusion.values, confusion.shape)
  const shots = reply.outputs.get('metrics_shots')
  if (shots !== undefined) {
    const [many, medium, few] = matrix(shots.values, shots.shape).map(([classes, rows, accuracy, ce, focal]) => ({ classes, rows, accuracy, ce, focal }))
    metrics.shots = { many, medium, few }
  }
  const perClass: Json = {}
  for (const field of ['recall', 'precision', 'f1', 'ap']) {
    const values = get(`per_class_${field}`)
    if (values !== undefined) perClass[field] = values
  }
  return { metrics, perClass }
}

/** The JSON reply's per-class metric fields as the fixture's lists (recall / precision / f1, or ap). */
export function perClassOf (reply: Json): Json {
  const entries = reply.perClass as Json[]
  const fields = entries[0]?.recall !== undefined ? ['recall', 'precision', 'f1'] : ['ap']
  return Object.fromEntries(fields.map((f) => [f, entries.map((e) => e[f])]))
}

/**
 * The fixture's expected metrics with the shot groups' mean losses replaced by this reply's own (the
 * fixture's come from made-up per-class losses): the sum of the group's per-class loss sums over its rows.
 */
export function expectedMetrics (c: MetricsCase, reply: Json): Json {
  const { perClass: _, ...want } = c.expected
  const shots = c.request.options?.shots
  if (want.shots === undefined || shots === undefined) return want
  const many = shots.many ?? 100
  const few = shots.few ?? 20
  const member = { many: (n: number) => n > many, medium: (n: number) => n >= few && n <= many, few: (n: number) => n < few }
  const groups: Json = {}
  for (const [name, inGroup] of Object.entries(member)) {
    const { rowAccuracy: __, ce: ___, focal: ____, ...group } = want.shots[name]
    const mean = (loss: 'ce' | 'focal'): number | null => {
      let sum = 0
      Array.from(shots.counts).forEach((n, k) => { if (inGroup(n)) sum += (reply.perClass[k][loss].sum as number) })
      return group.rows > 0 ? sum / group.rows : null
    }
    groups[name] = { ...group, ce: mean('ce'), focal: mean('focal') }
  }
  return { ...want, shots: groups }
}
