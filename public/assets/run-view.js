/**
 * One run over every batch received so far (GET /runs/{id}): its progress, totals, cross-entropy
 * against focal loss per class with the classes ordered by their rows so the tail is at the end,
 * and the hardest rows of the whole run with the batch each came from.
 */
import { getJson } from './api.js'
import { COLORS, Chart, barChart, fmt, pct } from './charts.js'
import { cell, fillTable, rowHead, sortItems, wireSort } from './dom.js'
import { POLL_MS, runHash, runLabel, when } from './run-names.js'

const total = (values) => values.reduce((a, b) => a + b, 0)

/** Each value's part of the values' total (0 when the total is). */
export function shares (values) {
  const sum = total(values)
  return values.map((v) => sum > 0 ? v / sum : 0)
}

/** Classes with the most rows first, ties by class: the order the charts and tables start in. */
export const byCount = (perClass) => [...perClass].sort((a, b) => b.count - a.count || a.class - b.class)

/** The rarest half of the classes that have rows: the tail that long-tail evaluations report on. */
export function tailClasses (perClass) {
  const seen = byCount(perClass).filter((c) => c.count > 0)
  return seen.slice(seen.length - Math.floor(seen.length / 2)).map((c) => c.class)
}

/** A difference of shares in percentage points, with its sign; under 0.05 points it reads 0.0. */
const signedPoints = (shift) => Math.abs(shift) < 0.0005 ? '0.0' : `${shift > 0 ? '+' : '−'}${Math.abs(100 * shift).toFixed(1)}`

const indexText = (index) => Array.isArray(index) ? index.join(', ') : String(index)

export function runView (root, state) {
  const field = (id) => root.querySelector(`#${id}`)
  const chart = new Chart(field('run-class-chart'), 300)
  state.charts.runClasses = chart
  const sort = { key: 'count', descending: true }
  let shown = ''

  const run = () => state.runs.run

  function renderFacts (r) {
    field('run-title').textContent = runLabel(r)
    const facts = [
      ['id', r.id], ['status', r.status], ['created', when(r.created)], ['closed', when(r.closed)],
      ['classes', r.classes], ['batches', r.batches], ['rows', r.rows],
      ['options', JSON.stringify(r.options)],
      ...Object.entries(r.metadata).map(([k, v]) => [`metadata.${k}`, typeof v === 'string' ? v : JSON.stringify(v)])
    ]
    field('run-facts').replaceChildren(...facts.flatMap(([name, value]) => {
      const dd = cell('dd', String(value), value)
      dd.dataset.field = name
      return [cell('dt', name), dd]
    }))
  }

  function renderTotals (r) {
    const line = (name, t) => [rowHead(name), cell('td', fmt(t.loss), t.loss ?? ''), cell('td', fmt(t.sum), t.sum), cell('td', fmt(t.normalizer), t.normalizer)]
    fillTable(field('run-totals').querySelector('tbody'), [line('cross-entropy', r.ce), line('focal loss', r.focal)])
  }

  function renderFindings (r, part) {
    const tail = tailClasses(r.perClass)
    const items = []
    if (tail.length > 0) {
      const of = (key) => total(tail.map((c) => part[key][c]))
      items.push(`The rarest ${tail.length} classes with rows (${tail.join(', ')}) hold ${pct(of('rows'))} of the rows, ` +
        `${pct(of('ce'))} of the cross-entropy and ${pct(of('focal'))} of the focal loss ` +
        `(${signedPoints(of('focal') - of('ce'))} points under focal loss).`)
    }
    const absent = r.perClass.filter((c) => c.count === 0).length
    if (absent > 0) items.push(`${absent} of ${r.classes} classes have no rows yet.`)
    if (r.hardest !== undefined && r.hardest.focal.length > 0) {
      const batches = new Set(r.hardest.focal.map((h) => h.batch))
      items.push(`The ${r.hardest.focal.length} hardest rows under focal loss come from ${batches.size} of ${r.batches} batches.`)
    }
    field('run-findings').replaceChildren(...items.map((t) => cell('li', t)))
  }

  function renderChart () {
    const r = run()
    const view = field('run-class-view').value
    const log = field('run-class-log').checked
    const order = byCount(r.perClass)
    const part = state.runs.shares
    const positive = (values) => log ? values.map((v) => v !== null && v > 0 ? v : null) : values
    const groups = view === 'share'
      ? [
          { label: 'rows', color: COLORS.samples, values: order.map((c) => part.rows[c.class]) },
          { label: 'cross-entropy', color: COLORS.ce, values: order.map((c) => part.ce[c.class]) },
          { label: 'focal loss', color: COLORS.focal, values: order.map((c) => part.focal[c.class]) }
        ]
      : [
          { label: 'cross-entropy (mean)', color: COLORS.ce, values: order.map((c) => c.ce.mean) },
          { label: 'focal loss (mean)', color: COLORS.focal, values: order.map((c) => c.focal.mean) }
        ]
    barChart(chart, groups.map((g) => ({ ...g, values: positive(g.values) })), {
      log,
      labels: order.map((c) => c.class),
      format: view === 'share' ? pct : fmt,
      yLabel: view === 'share' ? 'share of the run\'s total' : 'mean loss per row of the class'
    })
  }

  function renderClassTable () {
    const r = run()
    const part = state.runs.shares
    const valueOf = (c, key) => ({
      class: c.class,
      count: c.count,
      ceMean: c.ce.mean,
      focalMean: c.focal.mean,
      shift: part.focal[c.class] - part.ce[c.class]
    })[key]
    fillTable(field('run-class-table').querySelector('tbody'), sortItems(r.perClass, sort, valueOf).map((c) => {
      const shift = valueOf(c, 'shift')
      const shiftCell = cell('td', signedPoints(shift), shift)
      shiftCell.className = shift > 0.0005 ? 'up' : shift < -0.0005 ? 'down' : ''
      return [
        rowHead(String(c.class), c.class),
        cell('td', String(c.count), c.count),
        cell('td', pct(part.rows[c.class]), part.rows[c.class]),
        cell('td', fmt(c.ce.mean), c.ce.mean ?? ''),
        cell('td', pct(part.ce[c.class]), part.ce[c.class]),
        cell('td', fmt(c.focal.mean), c.focal.mean ?? ''),
        cell('td', pct(part.focal[c.class]), part.focal[c.class]),
        shiftCell
      ]
    }))
  }

  function renderHardest () {
    const r = run()
    const kept = r.hardest !== undefined
    field('run-hardest-none').hidden = kept
    field('run-hardest-table').hidden = !kept
    if (!kept) return
    const by = field('run-rank-by').value
    fillTable(field('run-hardest-table').querySelector('tbody'), r.hardest[by].map((h, i) => [
      rowHead(String(i + 1), i + 1),
      cell('td', h.batch, h.batch),
      cell('td', indexText(h.index), JSON.stringify(h.index)),
      cell('td', String(h.label), h.label),
      cell('td', fmt(h.loss), h.loss)
    ]))
  }

  function render (r) {
    state.runs.shares = {
      rows: shares(r.perClass.map((c) => c.count)),
      ce: shares(r.perClass.map((c) => c.ce.sum)),
      focal: shares(r.perClass.map((c) => c.focal.sum))
    }
    renderFacts(r)
    renderTotals(r)
    renderFindings(r, state.runs.shares)
    renderChart()
    renderClassTable()
    renderHardest()
  }

  const rerender = (fn) => () => { if (run() !== null) fn() }
  field('run-class-view').addEventListener('change', rerender(renderChart))
  field('run-class-log').addEventListener('change', rerender(renderChart))
  field('run-rank-by').addEventListener('change', rerender(renderHardest))
  wireSort(field('run-class-table'), sort, rerender(renderClassTable))

  return {
    el: field('run-view'),
    async load (route, current) {
      const r = await getJson(runHash(route.id))
      if (!current()) return false
      state.runs.run = r
      // A poll that finds no new batch leaves the view as it is (scroll positions, the chart's cursor).
      const key = JSON.stringify([r.id, r.batches, r.rows, r.status])
      if (key !== shown) render(r)
      shown = key
      field('run-polled').textContent = r.status === 'open'
        ? `open: read every ${POLL_MS / 1000} s, last at ${new Date().toLocaleTimeString()}`
        : 'closed: no more batches'
      return r.status === 'open'
    }
  }
}
