/**
 * The explored batch's metrics, from the same /loss/compare answer as its losses: the headline
 * numbers, a reliability diagram and the many / medium / few-shot table, whose loss columns are
 * whichever losses the shot groups carry (every loss the request named).
 */
import { Chart, fmt, pct, reliabilityChart } from './charts.js'
import { cell, fillTable, rowHead } from './dom.js'

const GROUPS = ['many', 'medium', 'few']
const GROUP_FIELDS = new Set(['classes', 'rows', 'accuracy'])

/** The headline metrics a reply can carry, in the order shown, with how each is printed. */
const HEADLINE = [
  ['accuracy', 'accuracy', (m) => m.accuracy, pct],
  ['top5', 'top-5 accuracy', (m) => m.topk?.['5'], pct],
  ['meanClassAccuracy', 'mean class accuracy', (m) => m.meanClassAccuracy, pct],
  ['ece', 'ECE (expected calibration error)', (m) => m.ece, fmt],
  ['mce', 'MCE (largest bin gap)', (m) => m.mce, fmt],
  ['brier', 'Brier score', (m) => m.brier, fmt],
  ['mAP', 'mAP', (m) => m.mAP, fmt],
  ['auroc', 'AUROC', (m) => m.auroc, fmt]
]

export function metricsView (root, state, labelOf) {
  const field = (id) => root.querySelector(`#${id}`)
  const chart = new Chart(field('reliability-chart'), 280)
  state.charts.reliability = chart

  function renderHeadline (metrics) {
    const shown = HEADLINE.filter(([, , read]) => read(metrics) !== undefined)
    fillTable(field('metrics-table').querySelector('tbody'), shown.map(([key, label, read, format]) => {
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

  function renderShots (shots) {
    field('shots').hidden = shots === undefined
    if (shots === undefined) return
    const losses = Object.keys(shots.many).filter((k) => !GROUP_FIELDS.has(k))
    const head = field('shot-table').querySelector('thead tr')
    head.replaceChildren(...['shot group', 'classes', 'rows', 'accuracy', ...losses.map((k) => labelOf(k))].map((t) => {
      const th = cell('th', t)
      th.scope = 'col'
      return th
    }))
    fillTable(field('shot-table').querySelector('tbody'), GROUPS.map((g) => {
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

  /** Shows the reply's metrics, or hides the whole view when the request did not ask for them. */
  return function render (metrics) {
    field('metrics-view').hidden = metrics === undefined
    if (metrics === undefined) return
    renderHeadline(metrics)
    renderReliability(metrics.reliability)
    renderShots(metrics.shots)
  }
}
