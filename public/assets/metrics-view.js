/**
 * Metrics as /loss/compare and the runs answer them: the headline numbers, a reliability diagram
 * and the many / medium / few-shot table, whose loss columns are whichever losses the shot groups
 * carry (every loss the request or the run named). The batch explorer shows its batch's, the run
 * view its run's: the same markup under each view's id prefix.
 */
import { Chart, fmt, pct, reliabilityChart } from './charts.js'
import { cell, fillTable, rowHead } from './dom.js'

export const SHOT_GROUPS = ['many', 'medium', 'few']
const GROUP_FIELDS = new Set(['classes', 'rows', 'accuracy'])

/** The losses a shot group carries, in the reply's order. */
export const shotLosses = (group) => Object.keys(group).filter((k) => !GROUP_FIELDS.has(k))

/**
 * The headline metrics any of `metrics` carries, in the order shown: [{ key, label, read, format,
 * higher }], `higher` when a larger value is the better one. Top-1 is the accuracy; every other k
 * of top-k gets a line.
 */
export function headline (...metrics) {
  const ks = [...new Set(metrics.flatMap((m) => Object.keys(m.topk ?? {})))].filter((k) => k !== '1')
  const lines = [
    { key: 'accuracy', label: 'accuracy', read: (m) => m.accuracy, format: pct, higher: true },
    ...ks.map((k) => ({ key: `top${k}`, label: `top-${k} accuracy`, read: (m) => m.topk?.[k], format: pct, higher: true })),
    { key: 'meanClassAccuracy', label: 'mean class accuracy', read: (m) => m.meanClassAccuracy, format: pct, higher: true },
    { key: 'ece', label: 'ECE (expected calibration error)', read: (m) => m.ece, format: fmt, higher: false },
    { key: 'mce', label: 'MCE (largest bin gap)', read: (m) => m.mce, format: fmt, higher: false },
    { key: 'rmsce', label: 'RMSCE (root-mean-square calibration error)', read: (m) => m.rmsce, format: fmt, higher: false },
    { key: 'brier', label: 'Brier score', read: (m) => m.brier, format: fmt, higher: false },
    { key: 'mAP', label: 'mAP', read: (m) => m.mAP, format: fmt, higher: true },
    { key: 'auroc', label: 'AUROC', read: (m) => m.auroc, format: fmt, higher: true }
  ]
  return lines.filter((line) => metrics.some((m) => line.read(m) !== undefined))
}

/** `prefix` picks the view's elements (#{prefix}metrics-view…), `chart` names its reliability chart in state.charts. */
export function metricsView (root, state, { prefix = '', chart: name = 'reliability' } = {}) {
  const field = (id) => root.querySelector(`#${prefix}${id}`)
  const chart = new Chart(field('reliability-chart'), 280)
  state.charts[name] = chart

  function renderHeadline (metrics) {
    fillTable(field('metrics-table').querySelector('tbody'), headline(metrics).map(({ key, label, read, format }) => {
      const v = read(metrics)
      const head = rowHead(label)
      head.dataset.key = key
      return [head, cell('td', v === null ? '–' : format(v), v ?? '')]
    }))
  }

  function renderReliability (bins) {
    field('reliability').hidden = bins === undefined
    if (bins === undefined) return
    reliabilityChart(chart, bins)
    fillTable(field('reliability-table').querySelector('tbody'), bins.filter((b) => b.count > 0).map((b) => [
      rowHead(`${fmt(b.lower)}–${fmt(b.upper)}`, b.lower),
      cell('td', String(b.count), b.count),
      cell('td', fmt(b.confidence), b.confidence),
      cell('td', fmt(b.accuracy), b.accuracy),
      cell('td', fmt(b.confidence - b.accuracy), b.confidence - b.accuracy)
    ]))
  }

  function renderShots (shots, labelOf) {
    field('shots').hidden = shots === undefined
    if (shots === undefined) return
    const losses = shotLosses(shots.many)
    const head = field('shot-table').querySelector('thead tr')
    head.replaceChildren(...['shot group', 'classes', 'rows', 'accuracy', ...losses.map((k) => labelOf(k))].map((t) => {
      const th = cell('th', t)
      th.scope = 'col'
      return th
    }))
    fillTable(field('shot-table').querySelector('tbody'), SHOT_GROUPS.map((g) => {
      const group = shots[g]
      return [
        rowHead(g, g),
        cell('td', String(group.classes), group.classes),
        cell('td', String(group.rows), group.rows),
        cell('td', pct(group.accuracy), group.accuracy ?? ''),
        ...losses.map((k) => cell('td', fmt(group[k]), group[k] ?? ''))
      ]
    }))
  }

  /** Shows the metrics, the shot table's losses named by `labelOf`; hides the whole view without metrics. */
  return function render (metrics, labelOf) {
    field('metrics-view').hidden = metrics === undefined
    if (metrics === undefined) return
    renderHeadline(metrics)
    renderReliability(metrics.reliability)
    renderShots(metrics.shots, labelOf)
  }
}
