/**
 * One run over every batch received so far (GET /runs/{id}): its progress, each of its losses'
 * totals and per-class means with the classes ordered by their rows so the tail is at the end, the
 * hardest rows of the whole run under each loss with the batch each came from, and, for a run
 * created with metrics, the run's accuracy, calibration and shot groups.
 */
import { getJson } from './api.js'
import { COLORS, Chart, barChart, fmt, pct } from './charts.js'
import { cell, fillTable, rowHead, setHead, sortItems, wireSort } from './dom.js'
import { metricsView } from './metrics-view.js'
import { POLL_MS, runHash, runLabel, runLosses, when } from './run-names.js'

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

/** "a, b and c". */
export function listed (parts) {
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`
}

/** A difference of shares in percentage points, with its sign; under 0.05 points it reads 0.0. */
const signedPoints = (shift) => Math.abs(shift) < 0.0005 ? '0.0' : `${shift > 0 ? '+' : '−'}${Math.abs(100 * shift).toFixed(1)}`

const indexText = (index) => Array.isArray(index) ? index.join(', ') : String(index)

/** The per-class metrics a run created with metrics adds to each class, as printed. */
const CLASS_METRICS = [['recall', 'recall'], ['precision', 'precision'], ['f1', 'F1']]

/** The loss the hardest rows are first ranked by: focal loss when the run has it, as the explorer does. */
const firstRanked = (losses) => (losses.find((l) => l.key === 'focal') ?? losses[0]).key

export function runView (root, state) {
  const field = (id) => root.querySelector(`#${id}`)
  const chart = new Chart(field('run-class-chart'), 300)
  state.charts.runClasses = chart
  const renderMetrics = metricsView(root, state, { prefix: 'run-', chart: 'runReliability' })
  const sort = { key: 'count', descending: true }
  let shown = ''

  const run = () => state.runs.run
  const losses = () => state.runs.losses
  const labelOf = (key) => losses().find((l) => l.key === key)?.label ?? key
  const classMetrics = (r) => CLASS_METRICS.filter(([key]) => r.perClass.some((c) => c[key] !== undefined))

  function renderFacts (r) {
    field('run-title').textContent = runLabel(r)
    const facts = [
      ['id', r.id], ['status', r.status], ['created', when(r.created)], ['closed', when(r.closed)],
      ['classes', r.classes], ['batches', r.batches], ['rows', r.rows],
      ['losses', losses().map((l) => l.key).join(', ')],
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
    fillTable(field('run-totals').querySelector('tbody'), losses().map((l) => {
      const t = r[l.key]
      return [rowHead(l.label), cell('td', fmt(t.loss), t.loss ?? ''), cell('td', fmt(t.sum), t.sum), cell('td', fmt(t.normalizer), t.normalizer)]
    }))
  }

  function renderFindings (r, part) {
    const tail = tailClasses(r.perClass)
    const items = []
    if (tail.length > 0) {
      const of = (values) => total(tail.map((c) => values[c]))
      items.push(`The rarest ${tail.length} classes with rows (${tail.join(', ')}) hold ${pct(of(part.rows))} of the rows, ` +
        `${listed(losses().map((l) => `${pct(of(part.losses[l.key]))} of the ${l.label}`))}.`)
    }
    const shots = r.metrics?.shots
    if (shots !== undefined && shots.few.accuracy !== null && shots.many.accuracy !== null) {
      items.push(`The ${shots.few.classes} few-shot classes (${shots.few.rows} rows) have ${pct(shots.few.accuracy)} accuracy, ` +
        `the ${shots.many.classes} many-shot ones ${pct(shots.many.accuracy)}.`)
    }
    const absent = r.perClass.filter((c) => c.count === 0).length
    if (absent > 0) items.push(`${absent} of ${r.classes} classes have no rows yet.`)
    const by = losses().find((l) => l.key === firstRanked(losses()))
    const hardest = r.hardest?.[by.key]
    if (hardest !== undefined && hardest.length > 0) {
      const batches = new Set(hardest.map((h) => h.batch))
      items.push(`The ${hardest.length} hardest rows under ${by.label} come from ${batches.size} of ${r.batches} batches.`)
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
          ...losses().map((l) => ({ label: l.label, color: l.color, values: order.map((c) => part.losses[l.key][c.class]) }))
        ]
      : losses().map((l) => ({ label: `${l.label} (mean)`, color: l.color, values: order.map((c) => c[l.key].mean) }))
    barChart(chart, groups.map((g) => ({ ...g, values: positive(g.values) })), {
      log,
      labels: order.map((c) => c.class),
      format: view === 'share' ? pct : fmt,
      yLabel: view === 'share' ? 'share of the run\'s total' : 'mean loss per row of the class'
    })
  }

  /** The sort keys: class, count, mean:{loss}, shift:{loss} (its share − the first loss's) and the class metrics. */
  function valueOf (c, key) {
    const part = state.runs.shares
    const [what, loss] = key.split(':')
    if (what === 'mean') return c[loss].mean
    if (what === 'shift') return part.losses[loss][c.class] - part.losses[losses()[0].key][c.class]
    return c[key] ?? null
  }

  /** The per-class table's columns follow the run's losses; the sort stays when its column does. */
  function renderClassHead (r) {
    const [, ...rest] = losses()
    const columns = [
      { title: 'class', sort: 'class' }, { title: 'rows', sort: 'count' }, 'rows share',
      ...losses().flatMap((l) => [{ title: `${l.short} mean`, sort: `mean:${l.key}` }, `${l.short} share`]),
      ...rest.map((l) => ({ title: `shift ${l.short}`, sort: `shift:${l.key}` })),
      ...classMetrics(r).map(([key, title]) => ({ title, sort: key }))
    ]
    if (!columns.some((c) => c.sort === sort.key)) Object.assign(sort, { key: 'count', descending: true })
    setHead(field('run-class-table'), columns)
  }

  function renderClassTable () {
    const r = run()
    const part = state.runs.shares
    const [, ...rest] = losses()
    fillTable(field('run-class-table').querySelector('tbody'), sortItems(r.perClass, sort, valueOf).map((c) => {
      const shiftCell = (l) => {
        const shift = valueOf(c, `shift:${l.key}`)
        const td = cell('td', signedPoints(shift), shift)
        td.className = shift > 0.0005 ? 'up' : shift < -0.0005 ? 'down' : ''
        return td
      }
      return [
        rowHead(String(c.class), c.class),
        cell('td', String(c.count), c.count),
        cell('td', pct(part.rows[c.class]), part.rows[c.class]),
        ...losses().flatMap((l) => [
          cell('td', fmt(c[l.key].mean), c[l.key].mean ?? ''),
          cell('td', pct(part.losses[l.key][c.class]), part.losses[l.key][c.class])
        ]),
        ...rest.map(shiftCell),
        ...classMetrics(r).map(([key]) => cell('td', pct(c[key]), c[key] ?? ''))
      ]
    }))
  }

  /** The rank-by choices are the losses the run keeps hardest rows of; the choice stays when the run has it. */
  function rankOptions (r) {
    const select = field('run-rank-by')
    const ranked = losses().filter((l) => r.hardest?.[l.key] !== undefined)
    if (ranked.length === 0) return
    const kept = ranked.some((l) => l.key === select.value) ? select.value : firstRanked(ranked)
    select.replaceChildren(...ranked.map((l) => {
      const option = cell('option', l.label)
      option.value = l.key
      return option
    }))
    select.value = kept
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
    state.runs.losses = runLosses(r)
    state.runs.shares = {
      rows: shares(r.perClass.map((c) => c.count)),
      losses: Object.fromEntries(losses().map((l) => [l.key, shares(r.perClass.map((c) => c[l.key].sum))]))
    }
    renderFacts(r)
    renderTotals(r)
    renderFindings(r, state.runs.shares)
    renderMetrics(r.metrics, labelOf)
    renderChart()
    renderClassHead(r)
    markSort()
    renderClassTable()
    rankOptions(r)
    renderHardest()
  }

  const rerender = (fn) => () => { if (run() !== null) fn() }
  field('run-class-view').addEventListener('change', rerender(renderChart))
  field('run-class-log').addEventListener('change', rerender(renderChart))
  field('run-rank-by').addEventListener('change', rerender(renderHardest))
  const markSort = wireSort(field('run-class-table'), sort, rerender(renderClassTable))

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
