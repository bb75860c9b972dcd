/* global document */
/**
 * The batch explorer: one POST /loss/compare with breakdown and every row ranked (hardest = the row
 * count), so per-class totals, each row's loss under both losses and the concentration curve all
 * come from the same answer. The form's controls own activation, gamma, alpha, classBalance and
 * reduction; every other field of the pasted batch is sent as it is.
 */
import { clearError, postJson, showError } from './api.js'
import { COLORS, Chart, barChart, concentrationChart, fmt, pct } from './charts.js'
import { EXAMPLES, longTailBatch } from './example.js'

const sum = (values) => values.reduce((a, b) => a + b, 0)

/** Rows the service ranks: N, or N·T frames for temporal [N][C][T] logits. */
function rowCount (batch) {
  const { logits } = batch
  if (!Array.isArray(logits)) return 1
  const frames = Array.isArray(logits[0]) && Array.isArray(logits[0][0]) ? logits[0][0].length : 1
  return Math.max(1, logits.length * frames)
}

/** Rows per class in the batch, for classBalance when no training counts are given. */
function labelCounts (batch) {
  const { logits, labels } = batch
  const classes = Array.isArray(logits?.[0]) ? logits[0].length : 1
  const counts = Array(classes).fill(0)
  const ignore = batch.ignoreIndex ?? -100
  const visit = (y) => {
    if (Array.isArray(y) && y.every((v) => typeof v === 'number') && y.length === classes && classes > 1) {
      counts[y.indexOf(Math.max(...y))] += 1
    } else if (Array.isArray(y)) {
      y.forEach(visit)
    } else if (classes === 1) {
      if (y >= 0.5) counts[0] += 1
    } else if (Number.isInteger(y) && y !== ignore && y >= 0 && y < classes) {
      counts[y] += 1
    }
  }
  if (Array.isArray(labels)) labels.forEach(visit)
  return counts
}

/** The batch as JSON a person can scroll through: one row per line. */
function formatBatch ({ logits, labels }) {
  return `{\n  "labels": ${JSON.stringify(labels)},\n  "logits": [\n${logits.map((r) => `    ${JSON.stringify(r)}`).join(',\n')}\n  ]\n}\n`
}

const cell = (tag, text, value) => {
  const el = document.createElement(tag)
  el.textContent = text
  if (value !== undefined) el.dataset.value = String(value)
  return el
}

function fillTable (tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement('tr')
    tr.append(...cells)
    return tr
  }))
}

/** A difference of shares in percentage points, with its sign; under 0.05 points it reads 0.0. */
const signed = (shift) => Math.abs(shift) < 0.0005 ? '0.0' : `${shift > 0 ? '+' : '−'}${Math.abs(100 * shift).toFixed(1)}`

const indexText = (index) => Array.isArray(index) ? index.join(', ') : String(index)

/** Cumulative share of the total at 0, 1, …, R rows taken hardest first. */
function cumulative (rows) {
  const total = sum(rows.map((r) => r.loss))
  const out = [0]
  let acc = 0
  for (const r of rows) {
    acc += r.loss
    out.push(total > 0 ? acc / total : 0)
  }
  return out
}

export function explorerSection (root, state) {
  const form = root.querySelector('#batch-form')
  const text = root.querySelector('#batch-json')
  const field = (id) => root.querySelector(`#${id}`)
  const errorBox = field('batch-error')
  const results = field('batch-results')
  const classChart = new Chart(field('class-chart'), 300)
  const concentration = new Chart(field('concentration-chart'), 260)
  state.charts.classes = classChart
  state.charts.concentration = concentration
  let generation = 0

  state.batch = null

  function request (batch) {
    const body = { ...batch, activation: field('activation').value, gamma: Number(field('gamma').value), reduction: 'mean', breakdown: true, hardest: rowCount(batch) }
    delete body.alpha
    delete body.classBalance
    if (field('cb-on').checked) {
      const given = field('cb-counts').value.trim()
      body.classBalance = {
        counts: given === '' ? labelCounts(batch) : given.split(/[\s,]+/).map(Number),
        beta: Number(field('cb-beta').value)
      }
    } else {
      body.alpha = field('alpha-on').checked ? Number(field('alpha').value) : null
    }
    return body
  }

  function renderTotals (reply) {
    const line = (name, r) => {
      const head = cell('th', name)
      head.scope = 'row'
      return [head, cell('td', fmt(r.loss), r.loss), cell('td', fmt(r.sum), r.sum), cell('td', fmt(r.normalizer), r.normalizer)]
    }
    fillTable(field('totals').querySelector('tbody'), [line('cross-entropy', reply.ce), line('focal loss', reply.focal)])
  }

  function renderFindings (reply, shares) {
    const items = []
    const { perClass } = reply
    if (perClass.length > 1) {
      const rare = [...perClass].sort((a, b) => a.count - b.count || b.class - a.class).slice(0, Math.floor(perClass.length / 2))
      const part = (key) => sum(rare.map((c) => shares[key][c.class]))
      const shift = part('focal') - part('ce')
      items.push(`The rarest ${rare.length} classes (${rare.map((c) => c.class).sort((a, b) => a - b).join(', ')}) hold ${pct(part('rows'))} of the rows, ` +
        `${pct(part('ce'))} of the cross-entropy and ${pct(part('focal'))} of the focal loss ` +
        `(${signed(shift)} points under focal loss).`)
    }
    const ranked = { ce: reply.ce.hardest, focal: reply.focal.hardest }
    const rows = ranked.ce.length
    const tenth = Math.max(1, Math.round(rows / 10))
    const head = (key, k) => {
      const total = sum(ranked[key].map((r) => r.loss))
      return total > 0 ? sum(ranked[key].slice(0, k).map((r) => r.loss)) / total : 0
    }
    items.push(`The hardest 10% of rows (${tenth} of ${rows}) carry ${pct(head('ce', tenth))} of the cross-entropy and ${pct(head('focal', tenth))} of the focal loss.`)
    const half = Math.floor(rows / 2)
    items.push(`The easiest half of the rows carries ${pct(1 - head('ce', rows - half))} of the cross-entropy and ${pct(1 - head('focal', rows - half))} of the focal loss.`)
    field('findings').replaceChildren(...items.map((t) => cell('li', t)))
  }

  function renderClasses () {
    const { reply, shares } = state.batch
    const view = field('class-view').value
    const log = field('class-log').checked
    const groups = view === 'share'
      ? [
          { label: 'rows', color: COLORS.samples, values: shares.rows },
          { label: 'cross-entropy', color: COLORS.ce, values: shares.ce },
          { label: 'focal loss', color: COLORS.focal, values: shares.focal }
        ]
      : [
          { label: `cross-entropy (${view})`, color: COLORS.ce, values: reply.perClass.map((c) => c.ce[view]) },
          { label: `focal loss (${view})`, color: COLORS.focal, values: reply.perClass.map((c) => c.focal[view]) }
        ]
    state.batch.classes = { view, log, groups }
    barChart(classChart, groups, {
      log,
      format: view === 'share' ? pct : fmt,
      yLabel: view === 'share' ? 'share of the total' : view === 'sum' ? 'loss summed over the class' : 'mean loss per row of the class'
    })
  }

  function renderClassTable () {
    const { reply, shares } = state.batch
    const weights = reply.classWeights
    field('class-weight-head').hidden = weights === undefined
    fillTable(field('class-table').querySelector('tbody'), reply.perClass.map((c) => {
      const shift = shares.focal[c.class] - shares.ce[c.class]
      const cells = [
        cell('th', String(c.class), c.class),
        cell('td', String(c.count), c.count),
        cell('td', pct(shares.rows[c.class]), shares.rows[c.class]),
        cell('td', fmt(c.ce.sum), c.ce.sum),
        cell('td', pct(shares.ce[c.class]), shares.ce[c.class]),
        cell('td', fmt(c.focal.sum), c.focal.sum),
        cell('td', pct(shares.focal[c.class]), shares.focal[c.class]),
        cell('td', signed(shift), shift)
      ]
      cells[0].scope = 'row'
      cells[7].className = shift > 0.0005 ? 'up' : shift < -0.0005 ? 'down' : ''
      if (weights !== undefined) cells.push(cell('td', fmt(weights[c.class]), weights[c.class]))
      return cells
    }))
  }

  function renderHardest () {
    const { reply } = state.batch
    const by = field('rank-by').value
    const k = Math.max(1, Math.floor(Number(field('top-k').value)) || 10)
    const position = (list) => new Map(list.map((r, i) => [JSON.stringify(r.index), { rank: i + 1, loss: r.loss }]))
    const ce = position(reply.ce.hardest)
    const focal = position(reply.focal.hardest)
    const total = { ce: reply.ce.sum, focal: reply.focal.sum }
    const rows = reply[by].hardest.slice(0, k).map((r) => {
      const key = JSON.stringify(r.index)
      return { index: r.index, label: r.label, ce: ce.get(key), focal: focal.get(key) }
    })
    state.batch.hardestShown = { by, rows }
    fillTable(field('hardest-table').querySelector('tbody'), rows.map((r) => [
      cell('th', indexText(r.index), JSON.stringify(r.index)),
      cell('td', String(r.label), r.label),
      cell('td', fmt(r.ce.loss), r.ce.loss),
      cell('td', pct(r.ce.loss / total.ce), r.ce.loss / total.ce),
      cell('td', String(r.ce.rank), r.ce.rank),
      cell('td', fmt(r.focal.loss), r.focal.loss),
      cell('td', pct(r.focal.loss / total.focal), r.focal.loss / total.focal),
      cell('td', String(r.focal.rank), r.focal.rank)
    ]))
  }

  function renderConcentration () {
    const { reply } = state.batch
    const ce = cumulative(reply.ce.hardest)
    const focal = cumulative(reply.focal.hardest)
    const x = ce.map((_, i) => i / (ce.length - 1))
    state.batch.concentration = { x, ce, focal }
    concentrationChart(concentration, x, [
      { label: 'cross-entropy', color: COLORS.ce, values: ce },
      { label: 'focal loss', color: COLORS.focal, values: focal },
      { label: 'even spread', color: COLORS.samples, values: x, dash: [4, 4] }
    ])
  }

  function render () {
    const { reply } = state.batch
    const of = (values) => {
      const total = sum(values)
      return values.map((v) => total > 0 ? v / total : 0)
    }
    state.batch.shares = {
      rows: of(reply.perClass.map((c) => c.count)),
      ce: of(reply.perClass.map((c) => c.ce.sum)),
      focal: of(reply.perClass.map((c) => c.focal.sum))
    }
    results.hidden = false
    results.classList.remove('stale')
    renderTotals(reply)
    renderFindings(reply, state.batch.shares)
    renderClasses()
    renderClassTable()
    renderConcentration()
    renderHardest()
  }

  async function score () {
    const round = ++generation
    root.dataset.status = 'loading'
    field('score').disabled = true
    results.setAttribute('aria-busy', 'true')
    try {
      let batch
      try {
        batch = JSON.parse(text.value)
      } catch (err) {
        throw new Error(`the batch is not valid JSON: ${err.message}`)
      }
      if (batch === null || typeof batch !== 'object' || Array.isArray(batch)) throw new Error('the batch must be a JSON object with logits and labels')
      const body = request(batch)
      const reply = await postJson('loss/compare', body)
      if (round !== generation) return
      state.batch = { request: body, reply }
      clearError(errorBox)
      render()
      root.dataset.status = 'ready'
    } catch (err) {
      if (round !== generation) return
      showError(errorBox, err)
      results.classList.add('stale')
      root.dataset.status = 'error'
    } finally {
      if (round === generation) {
        field('score').disabled = false
        results.removeAttribute('aria-busy')
        root.dataset.version = String(generation)
      }
    }
  }

  function loadExample () {
    text.value = formatBatch(longTailBatch(EXAMPLES[field('example').value]))
    return score()
  }

  field('example').replaceChildren(...Object.entries(EXAMPLES).map(([key, e]) => {
    const option = cell('option', e.title)
    option.value = key
    return option
  }))
  field('load-example').addEventListener('click', loadExample)
  field('batch-file').addEventListener('change', async (event) => {
    const file = event.target.files[0]
    if (file === undefined) return
    text.value = await file.text()
    score()
  })
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    score()
  })
  const syncAlpha = () => {
    const balanced = field('cb-on').checked
    field('alpha-on').disabled = balanced
    field('alpha').disabled = balanced || !field('alpha-on').checked
    field('cb-beta').disabled = !balanced
    field('cb-counts').disabled = !balanced
  }
  field('cb-on').addEventListener('change', syncAlpha)
  field('alpha-on').addEventListener('change', syncAlpha)
  syncAlpha()
  field('class-view').addEventListener('change', () => { if (state.batch !== null) renderClasses() })
  field('class-log').addEventListener('change', () => { if (state.batch !== null) renderClasses() })
  field('rank-by').addEventListener('change', () => { if (state.batch !== null) renderHardest() })
  field('top-k').addEventListener('change', () => { if (state.batch !== null) renderHardest() })
  return loadExample()
}
