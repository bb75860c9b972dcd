/**
 * Two runs side by side (GET /runs/{a}/compare/{b}), a the baseline: totals, and per class b − a of
 * the mean losses with the classes ordered by their rows, so "did focal loss help my tail classes?"
 * reads off the right end of the chart and the findings say it in numbers.
 */
import { getJson } from './api.js'
import { COLORS, Chart, barChart, fmt } from './charts.js'
import { cell, differenceCell, fillTable, link, rowHead, sortItems, wireSort } from './dom.js'
import { compareHash, runHash, runLabel } from './run-names.js'
import { byCount, tailClasses } from './run-view.js'

const LOSSES = { ce: 'cross-entropy', focal: 'focal loss' }

const total = (values) => values.reduce((a, b) => a + b, 0)

/** Mean loss per row over a set of classes of one run: Σ sum / Σ count, as the run's own totals are. */
function meanOver (run, classes, loss) {
  const rows = total(classes.map((c) => run.perClass[c].count))
  return rows === 0 ? null : total(classes.map((c) => run.perClass[c][loss].sum)) / rows
}

/** Rows of both runs per class: the tail is the classes rare in the data both were evaluated on. */
const combined = ({ a, b }) => a.perClass.map((c, i) => ({ class: c.class, count: c.count + b.perClass[i].count }))

export function compareView (root, state) {
  const field = (id) => root.querySelector(`#${id}`)
  const chart = new Chart(field('compare-class-chart'), 300)
  state.charts.compareClasses = chart
  const sort = { key: 'count', descending: true }
  let shown = ''

  const comparison = () => state.runs.comparison

  function renderTitle ({ a, b }) {
    field('compare-title').replaceChildren(
      link(runLabel(a), runHash(a.id)), cell('span', ' (a) against '), link(runLabel(b), runHash(b.id)), cell('span', ' (b) '),
      link('swap', compareHash(b.id, a.id)))
  }

  function renderTotals ({ a, b, difference }) {
    const fact = (name, key) => [rowHead(name), cell('td', String(a[key]), a[key]), cell('td', String(b[key]), b[key]), cell('td', '')]
    const loss = (key) => [rowHead(LOSSES[key]), cell('td', fmt(a[key].loss), a[key].loss ?? ''), cell('td', fmt(b[key].loss), b[key].loss ?? ''), differenceCell(difference[key], fmt)]
    fillTable(field('compare-totals').querySelector('tbody'), [fact('status', 'status'), fact('batches', 'batches'), fact('rows', 'rows'), loss('ce'), loss('focal')])
  }

  function renderFindings (c) {
    const tail = tailClasses(combined(c))
    const tailSet = new Set(tail)
    const head = c.a.perClass.map((x) => x.class).filter((k) => !tailSet.has(k) && c.a.perClass[k].count + c.b.perClass[k].count > 0)
    const items = []
    const line = (what, classes, loss) => {
      const ma = meanOver(c.a, classes, loss)
      const mb = meanOver(c.b, classes, loss)
      if (ma === null || mb === null) return
      const lower = classes.filter((k) => (c.difference.perClass[k][loss] ?? 0) < 0).length
      const d = mb - ma
      items.push(`${what}: mean ${LOSSES[loss]} per row ${fmt(ma)} in a, ${fmt(mb)} in b (${d < 0 ? '−' : '+'}${fmt(Math.abs(d))}, ${d < 0 ? 'better' : d > 0 ? 'worse' : 'the same'} in b); b is lower in ${lower} of ${classes.length} classes.`)
    }
    if (tail.length > 0) for (const loss of Object.keys(LOSSES)) line(`The rarest ${tail.length} classes (${tail.join(', ')})`, tail, loss)
    if (head.length > 0) for (const loss of Object.keys(LOSSES)) line(`The other ${head.length} classes`, head, loss)
    field('compare-findings').replaceChildren(...items.map((t) => cell('li', t)))
  }

  function renderChart () {
    const c = comparison()
    const loss = field('compare-loss').value
    const show = field('compare-show').value
    const order = byCount(combined(c))
    const groups = show === 'difference'
      ? [{ label: `${LOSSES[loss]}: b − a`, color: COLORS[loss], values: order.map((x) => c.difference.perClass[x.class][loss]) }]
      : [
          { label: `a: ${runLabel(c.a)}`, color: COLORS.samples, values: order.map((x) => c.a.perClass[x.class][loss].mean) },
          { label: `b: ${runLabel(c.b)}`, color: COLORS[loss], values: order.map((x) => c.b.perClass[x.class][loss].mean) }
        ]
    state.runs.compareChart = { loss, show, classes: order.map((x) => x.class) }
    barChart(chart, groups, {
      signed: show === 'difference',
      labels: order.map((x) => x.class),
      yLabel: show === 'difference' ? `b − a, mean ${LOSSES[loss]} per row` : `mean ${LOSSES[loss]} per row`
    })
  }

  function renderClassTable () {
    const c = comparison()
    const rows = c.a.perClass.map((x, k) => ({ class: x.class, a: x, b: c.b.perClass[k], difference: c.difference.perClass[k] }))
    const valueOf = (r, key) => ({ class: r.class, count: r.a.count + r.b.count, ce: r.difference.ce, focal: r.difference.focal })[key]
    fillTable(field('compare-class-table').querySelector('tbody'), sortItems(rows, sort, valueOf).map((r) => [
      rowHead(String(r.class), r.class),
      cell('td', String(r.a.count), r.a.count),
      cell('td', String(r.b.count), r.b.count),
      ...Object.keys(LOSSES).flatMap((loss) => [
        cell('td', fmt(r.a[loss].mean), r.a[loss].mean ?? ''),
        cell('td', fmt(r.b[loss].mean), r.b[loss].mean ?? ''),
        differenceCell(r.difference[loss], fmt)
      ])
    ]))
  }

  function render (c) {
    renderTitle(c)
    renderTotals(c)
    renderFindings(c)
    renderChart()
    renderClassTable()
  }

  const rerender = (fn) => () => { if (comparison() !== null) fn() }
  field('compare-loss').addEventListener('change', rerender(renderChart))
  field('compare-show').addEventListener('change', rerender(renderChart))
  wireSort(field('compare-class-table'), sort, rerender(renderClassTable))

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
