/* global document */
/**
 * Two runs side by side (GET /runs/{a}/compare/{b}), a the baseline: every loss both runs score,
 * overall and per class b − a of its mean with the classes ordered by their rows, and for runs with
 * metrics their accuracy and calibration and the many / medium / few-shot groups, a against b. So
 * "did focal loss help my tail classes?" reads off the right end of the chart, the few-shot row and
 * the findings, in numbers.
 */
import { getJson } from './api.js'
import { COLORS, Chart, barChart, fmt, pct } from './charts.js'
import { cell, differenceCell, fillTable, link, rowHead, setHead, sortItems, wireSort } from './dom.js'
import { SHOT_GROUPS, headline, shotLosses } from './metrics-view.js'
import { compareHash, lossNames, runHash, runLabel, runLosses } from './run-names.js'
import { byCount, listed, tailClasses } from './run-view.js'

const total = (values) => values.reduce((a, b) => a + b, 0)

/** Mean loss per row over a set of classes of one run: Σ sum / Σ count, as the run's own totals are. */
function meanOver (run, classes, loss) {
  const rows = total(classes.map((c) => run.perClass[c].count))
  return rows === 0 ? null : total(classes.map((c) => run.perClass[c][loss].sum)) / rows
}

/** Rows of both runs per class: the tail is the classes rare in the data both were evaluated on. */
const combined = ({ a, b }) => a.perClass.map((c, i) => ({ class: c.class, count: c.count + b.perClass[i].count }))

/** The losses both runs score, in a's order and with a's names for them. */
const sharedLosses = ({ a, b }) => runLosses(a).filter((l) => lossNames(b).includes(l.key))

/** How b − a reads in words: a loss or an error is better lower, an accuracy higher. */
function verdict (d, higher = false) {
  if (d === 0) return 'the same'
  return (d < 0) !== higher ? 'better in b' : 'worse in b'
}

/** A two-row header: `groups` = [{ title, columns }] with a column title per cell below, or { title } over one column. */
function groupedHead (table, groups) {
  const top = document.createElement('tr')
  const bottom = document.createElement('tr')
  for (const g of groups) {
    const th = cell('th', g.title)
    if (g.columns === undefined) {
      th.scope = 'col'
      th.rowSpan = 2
    } else {
      th.scope = 'colgroup'
      th.colSpan = g.columns.length
      for (const title of g.columns) {
        const sub = cell('th', title)
        sub.scope = 'col'
        bottom.append(sub)
      }
    }
    top.append(th)
  }
  table.querySelector('thead').replaceChildren(top, bottom)
}

export function compareView (root, state) {
  const field = (id) => root.querySelector(`#${id}`)
  const chart = new Chart(field('compare-class-chart'), 300)
  state.charts.compareClasses = chart
  const sort = { key: 'count', descending: true }
  let shown = ''

  const comparison = () => state.runs.comparison
  const losses = () => state.runs.compareLosses

  function renderTitle ({ a, b }) {
    field('compare-title').replaceChildren(
      link(runLabel(a), runHash(a.id)), cell('span', ' (a) against '), link(runLabel(b), runHash(b.id)), cell('span', ' (b) '),
      link('swap', compareHash(b.id, a.id)))
  }

  function renderTotals ({ a, b, difference }) {
    const fact = (name, key) => [rowHead(name), cell('td', String(a[key]), a[key]), cell('td', String(b[key]), b[key]), cell('td', '')]
    const loss = (l) => [rowHead(l.label), cell('td', fmt(a[l.key].loss), a[l.key].loss ?? ''), cell('td', fmt(b[l.key].loss), b[l.key].loss ?? ''), differenceCell(difference[l.key], fmt)]
    fillTable(field('compare-totals').querySelector('tbody'), [fact('status', 'status'), fact('batches', 'batches'), fact('rows', 'rows'), ...losses().map(loss)])
  }

  /** The scalar metrics of a and b, b − a as the API answers it (a metric only one run has reads – there). */
  function renderMetrics ({ a, b, difference }) {
    const view = field('compare-metrics-view')
    view.hidden = a.metrics === undefined && b.metrics === undefined
    if (view.hidden) return
    const ma = a.metrics ?? {}
    const mb = b.metrics ?? {}
    const value = (v, format) => cell('td', v === null || v === undefined ? '–' : format(v), v ?? '')
    fillTable(field('compare-metrics').querySelector('tbody'), headline(ma, mb).map(({ key, label, read, format, higher }) => {
      const head = rowHead(label)
      head.dataset.key = key
      return [head, value(read(ma), format), value(read(mb), format), differenceCell(read(difference.metrics ?? {}), format, higher)]
    }))
    renderShots(ma.shots, mb.shots, difference.shots)
  }

  /** Per shot group, accuracy and each shared loss of a and b with b − a: the tail question in one table. */
  function renderShots (sa, sb, difference) {
    field('compare-shots').hidden = sa === undefined || sb === undefined
    if (sa === undefined || sb === undefined) return
    const carried = new Set(shotLosses(sa.many).filter((k) => shotLosses(sb.many).includes(k)))
    const shotLossList = losses().filter((l) => carried.has(l.key))
    const triple = ['a', 'b', 'b − a']
    groupedHead(field('compare-shot-table'), [
      { title: 'shot group' }, { title: 'classes', columns: ['a', 'b'] }, { title: 'rows', columns: ['a', 'b'] },
      { title: 'accuracy', columns: triple }, ...shotLossList.map((l) => ({ title: l.label, columns: triple }))
    ])
    fillTable(field('compare-shot-table').querySelector('tbody'), SHOT_GROUPS.map((g) => {
      const [x, y, d] = [sa[g], sb[g], difference?.[g] ?? {}]
      return [
        rowHead(g, g),
        cell('td', String(x.classes), x.classes), cell('td', String(y.classes), y.classes),
        cell('td', String(x.rows), x.rows), cell('td', String(y.rows), y.rows),
        cell('td', pct(x.accuracy), x.accuracy ?? ''), cell('td', pct(y.accuracy), y.accuracy ?? ''), differenceCell(d.accuracy, pct, true),
        ...shotLossList.flatMap((l) => [cell('td', fmt(x[l.key]), x[l.key] ?? ''), cell('td', fmt(y[l.key]), y[l.key] ?? ''), differenceCell(d[l.key], fmt)])
      ]
    }))
  }

  function renderFindings (c) {
    const tail = tailClasses(combined(c))
    const tailSet = new Set(tail)
    const head = c.a.perClass.map((x) => x.class).filter((k) => !tailSet.has(k) && c.a.perClass[k].count + c.b.perClass[k].count > 0)
    const items = []
    const line = (what, classes, l) => {
      const ma = meanOver(c.a, classes, l.key)
      const mb = meanOver(c.b, classes, l.key)
      if (ma === null || mb === null) return
      const lower = classes.filter((k) => (c.difference.perClass[k][l.key] ?? 0) < 0).length
      const d = mb - ma
      items.push(`${what}: mean ${l.label} per row ${fmt(ma)} in a, ${fmt(mb)} in b (${d < 0 ? '−' : '+'}${fmt(Math.abs(d))}, ${verdict(d)}); b is lower in ${lower} of ${classes.length} classes.`)
    }
    if (tail.length > 0) for (const l of losses()) line(`The rarest ${tail.length} classes (${tail.join(', ')})`, tail, l)
    if (head.length > 0) for (const l of losses()) line(`The other ${head.length} classes`, head, l)
    const [fa, fb] = [c.a.metrics?.shots?.few, c.b.metrics?.shots?.few]
    const d = c.difference.shots?.few?.accuracy
    if (fa?.accuracy != null && fb?.accuracy != null && d != null) {
      const lower = losses().filter((l) => (c.difference.shots.few[l.key] ?? 0) < 0).map((l) => l.label)
      items.push(`The few-shot classes: accuracy ${pct(fa.accuracy)} in a, ${pct(fb.accuracy)} in b (${d < 0 ? '−' : '+'}${(100 * Math.abs(d)).toFixed(1)} points, ${verdict(d, true)})` +
        (lower.length > 0 ? `; b's mean ${listed(lower)} per row is lower there.` : '.'))
    }
    field('compare-findings').replaceChildren(...items.map((t) => cell('li', t)))
  }

  /** The chart's loss choices are the shared losses; the choice stays when it is still one. */
  function lossOptions () {
    const select = field('compare-loss')
    const kept = losses().some((l) => l.key === select.value) ? select.value : losses()[0]?.key
    select.replaceChildren(...losses().map((l) => {
      const option = cell('option', l.label)
      option.value = l.key
      return option
    }))
    if (kept !== undefined) select.value = kept
  }

  function renderChart () {
    const c = comparison()
    const l = losses().find((x) => x.key === field('compare-loss').value)
    if (l === undefined) return
    const show = field('compare-show').value
    const order = byCount(combined(c))
    const groups = show === 'difference'
      ? [{ label: `${l.label}: b − a`, color: l.color, values: order.map((x) => c.difference.perClass[x.class][l.key]) }]
      : [
          { label: `a: ${runLabel(c.a)}`, color: COLORS.samples, values: order.map((x) => c.a.perClass[x.class][l.key].mean) },
          { label: `b: ${runLabel(c.b)}`, color: l.color, values: order.map((x) => c.b.perClass[x.class][l.key].mean) }
        ]
    state.runs.compareChart = { loss: l.key, show, classes: order.map((x) => x.class) }
    barChart(chart, groups, {
      signed: show === 'difference',
      labels: order.map((x) => x.class),
      yLabel: show === 'difference' ? `b − a, mean ${l.label} per row` : `mean ${l.label} per row`
    })
  }

  /** The per-class columns follow the shared losses; the sort stays when its column does. */
  function renderClassHead () {
    const columns = [
      { title: 'class', sort: 'class' }, { title: 'rows a', sort: 'count' }, 'rows b',
      ...losses().flatMap((l) => [`${l.short} a`, `${l.short} b`, { title: `${l.short} b − a`, sort: `diff:${l.key}` }])
    ]
    if (!columns.some((c) => c.sort === sort.key)) Object.assign(sort, { key: 'count', descending: true })
    setHead(field('compare-class-table'), columns)
  }

  function renderClassTable () {
    const c = comparison()
    const rows = c.a.perClass.map((x, k) => ({ class: x.class, a: x, b: c.b.perClass[k], difference: c.difference.perClass[k] }))
    const valueOf = (r, key) => key === 'class' ? r.class : key === 'count' ? r.a.count + r.b.count : r.difference[key.slice('diff:'.length)]
    fillTable(field('compare-class-table').querySelector('tbody'), sortItems(rows, sort, valueOf).map((r) => [
      rowHead(String(r.class), r.class),
      cell('td', String(r.a.count), r.a.count),
      cell('td', String(r.b.count), r.b.count),
      ...losses().flatMap((l) => [
        cell('td', fmt(r.a[l.key].mean), r.a[l.key].mean ?? ''),
        cell('td', fmt(r.b[l.key].mean), r.b[l.key].mean ?? ''),
        differenceCell(r.difference[l.key], fmt)
      ])
    ]))
  }

  function render (c) {
    state.runs.compareLosses = sharedLosses(c)
    renderTitle(c)
    renderTotals(c)
    renderFindings(c)
    renderMetrics(c)
    lossOptions()
    renderChart()
    renderClassHead()
    markSort()
    renderClassTable()
  }

  const rerender = (fn) => () => { if (comparison() !== null) fn() }
  field('compare-loss').addEventListener('change', rerender(renderChart))
  field('compare-show').addEventListener('change', rerender(renderChart))
  const markSort = wireSort(field('compare-class-table'), sort, rerender(renderClassTable))

  return {
    el: field('run-compare'),
    async load (route, current) {
      const c = await getJson(compareHash(route.a, route.b))
      if (!current()) return false
      state.runs.comparison = c
      const key = JSON.stringify([c.a.id, c.a.batches, c.a.status, c.b.id, c.b.batches, c.b.status])
      if (key !== shown) render(c)
      shown = key
      return c.a.status === 'open' || c.b.status === 'open'
    }
  }
}
