/**
 * The batch explorer: one POST /loss/compare with the picked `losses`, breakdown, every row ranked
 * (hardest = the row count) and the metrics, so per-class totals, each row's loss under every loss,
 * the concentration curves, the reliability diagram and the shot groups all come from one answer.
 * The form's controls own activation, the losses and their options, classBalance, the metrics and
 * reduction; every other field of the pasted batch is sent as it is.
 */
import { clearError, postJson, showError } from './api.js'
import { COLORS, Chart, barChart, concentrationChart, fmt, pct } from './charts.js'
import { cell, fillTable, rowHead } from './dom.js'
import { EXAMPLES, longTailBatch } from './example.js'
import { classTable, hardestTable } from './explorer-tables.js'
import { LOSSES, lossPicker } from './loss-picker.js'
import { metricsView } from './metrics-view.js'

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
  const picker = lossPicker(root)
  const labelOf = (key) => LOSSES.find((l) => l.key === key)?.label ?? key
  const renderMetrics = metricsView(root, state)
  let generation = 0

  state.batch = null

  /** Training rows per class: the ones typed in, else the batch's own label counts. */
  function trainingCounts (batch) {
    const given = field('cb-counts').value.trim()
    return given === '' ? labelCounts(batch) : given.split(/[\s,]+/).map(Number)
  }

  function request (batch) {
    const counts = trainingCounts(batch)
    const activation = field('activation').value
    const body = { ...batch, activation, losses: picker.entries(counts), reduction: 'mean', breakdown: true, hardest: rowCount(batch) }
    delete body.classBalance
    if (field('cb-on').checked) body.classBalance = { counts, beta: Number(field('cb-beta').value) }
    if (field('metrics-on').checked) {
      Object.assign(body, { metrics: true, calibrationBins: Number(field('calibration-bins').value) })
      if (activation === 'softmax') body.shots = { counts, many: Number(field('shots-many').value), few: Number(field('shots-few').value) }
    }
    return body
  }

  /** "a, b and c" of each loss's share. */
  const each = (losses, value) => {
    const parts = losses.map((l) => `${pct(value(l.key))} of the ${l.label}`)
    return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`
  }

  function renderTotals ({ reply, losses }) {
    fillTable(field('totals').querySelector('tbody'), losses.map((l) => {
      const r = reply[l.key]
      return [rowHead(l.label), cell('td', fmt(r.loss), r.loss), cell('td', fmt(r.sum), r.sum), cell('td', fmt(r.normalizer), r.normalizer)]
    }))
  }

  function renderFindings ({ reply, shares, losses }) {
    const items = []
    const { perClass } = reply
    if (perClass.length > 1) {
      const rare = [...perClass].sort((a, b) => a.count - b.count || b.class - a.class).slice(0, Math.floor(perClass.length / 2))
      const part = (key) => sum(rare.map((c) => shares[key][c.class]))
      items.push(`The rarest ${rare.length} classes (${rare.map((c) => c.class).sort((a, b) => a - b).join(', ')}) hold ${pct(part('rows'))} of the rows, ` +
        `${each(losses, part)}.`)
    }
    const rows = reply[losses[0].key].hardest.length
    const tenth = Math.max(1, Math.round(rows / 10))
    const head = (key, k) => {
      const total = sum(reply[key].hardest.map((r) => r.loss))
      return total > 0 ? sum(reply[key].hardest.slice(0, k).map((r) => r.loss)) / total : 0
    }
    items.push(`The hardest 10% of rows (${tenth} of ${rows}) carry ${each(losses, (key) => head(key, tenth))}.`)
    const half = Math.floor(rows / 2)
    items.push(`The easiest half of the rows carries ${each(losses, (key) => 1 - head(key, rows - half))}.`)
    field('findings').replaceChildren(...items.map((t) => cell('li', t)))
  }

  function renderClasses () {
    const { reply, shares, losses } = state.batch
    const view = field('class-view').value
    const log = field('class-log').checked
    const groups = view === 'share'
      ? [{ label: 'rows', color: COLORS.samples, values: shares.rows }, ...losses.map((l) => ({ label: l.label, color: l.color, values: shares[l.key] }))]
      : losses.map((l) => ({ label: `${l.label} (${view})`, color: l.color, values: reply.perClass.map((c) => c[l.key][view]) }))
    state.batch.classes = { view, log, groups }
    barChart(classChart, groups, {
      log,
      format: view === 'share' ? pct : fmt,
      yLabel: view === 'share' ? 'share of the total' : view === 'sum' ? 'loss summed over the class' : 'mean loss per row of the class'
    })
  }

  /** The rank-by choices are the compared losses; the choice stays when its loss is still compared. */
  function rankOptions (losses) {
    const select = field('rank-by')
    const kept = losses.some((l) => l.key === select.value) ? select.value : (losses.find((l) => l.key === 'focal') ?? losses[0]).key
    select.replaceChildren(...losses.map((l) => {
      const option = cell('option', l.label)
      option.value = l.key
      return option
    }))
    select.value = kept
  }

  function renderHardest () {
    const k = Math.max(1, Math.floor(Number(field('top-k').value)) || 10)
    state.batch.hardestShown = hardestTable(field('hardest-table'), state.batch, field('rank-by').value, k)
  }

  function renderConcentration () {
    const { reply, losses } = state.batch
    const lines = losses.map((l) => ({ label: l.label, color: l.color, values: cumulative(reply[l.key].hardest) }))
    const x = lines[0].values.map((_, i) => i / (lines[0].values.length - 1))
    state.batch.concentration = { x, ...Object.fromEntries(lines.map((line, i) => [losses[i].key, line.values])) }
    concentrationChart(concentration, x, [...lines, { label: 'even spread', color: COLORS.samples, values: x, dash: [4, 4] }])
  }

  function render () {
    const { reply, losses } = state.batch
    const of = (values) => {
      const total = sum(values)
      return values.map((v) => total > 0 ? v / total : 0)
    }
    state.batch.shares = {
      rows: of(reply.perClass.map((c) => c.count)),
      ...Object.fromEntries(losses.map((l) => [l.key, of(reply.perClass.map((c) => c[l.key].sum))]))
    }
    results.hidden = false
    results.classList.remove('stale')
    renderTotals(state.batch)
    renderFindings(state.batch)
    renderClasses()
    classTable(field('class-table'), state.batch)
    renderConcentration()
    rankOptions(losses)
    renderHardest()
    renderMetrics(reply.metrics, labelOf)
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
      const losses = picker.picked()
      if (losses.length === 0) throw new Error('pick at least one loss to compare')
      const body = request(batch)
      const reply = await postJson('loss/compare', body)
      if (round !== generation) return
      state.batch = { request: body, reply, losses }
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
  const syncOptions = () => {
    field('cb-beta').disabled = !field('cb-on').checked
    const metrics = field('metrics-on').checked
    field('calibration-bins').disabled = !metrics
    for (const id of ['shots-many', 'shots-few']) field(id).disabled = !metrics || field('activation').value !== 'softmax'
  }
  for (const id of ['cb-on', 'metrics-on', 'activation']) field(id).addEventListener('change', syncOptions)
  syncOptions()
  field('class-view').addEventListener('change', () => { if (state.batch !== null) renderClasses() })
  field('class-log').addEventListener('change', () => { if (state.batch !== null) renderClasses() })
  field('rank-by').addEventListener('change', () => { if (state.batch !== null) renderHardest() })
  field('top-k').addEventListener('change', () => { if (state.batch !== null) renderHardest() })
  return loadExample()
}
