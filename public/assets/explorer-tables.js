/* global document */
/**
 * The batch explorer's per-class and hardest-row tables, one column group per compared loss.
 * Headers are rebuilt with the losses, so the table always says which loss a column holds.
 */
import { fmt, pct } from './charts.js'
import { cell, fillTable, rowHead } from './dom.js'

/** A difference of shares in percentage points, with its sign; under 0.05 points it reads 0.0. */
const signed = (shift) => Math.abs(shift) < 0.0005 ? '0.0' : `${shift > 0 ? '+' : '−'}${Math.abs(100 * shift).toFixed(1)}`

const indexText = (index) => Array.isArray(index) ? index.join(', ') : String(index)

function setHead (table, titles, extra) {
  const row = document.createElement('tr')
  row.append(...titles.map((t) => {
    const th = cell('th', t)
    th.scope = 'col'
    return th
  }))
  if (extra !== undefined) row.append(extra)
  table.querySelector('thead').replaceChildren(row)
}

/**
 * Per class: rows, then each loss's sum and share, then each later loss's shift against the first
 * (its share − the first's, in points), and the class weights when the service used some.
 */
export function classTable (table, { reply, shares, losses }) {
  const weights = reply.classWeights
  const [first, ...rest] = losses
  const weightHead = cell('th', 'class weight')
  weightHead.scope = 'col'
  weightHead.id = 'class-weight-head'
  weightHead.hidden = weights === undefined
  setHead(table, ['class', 'rows', 'rows share', ...losses.flatMap((l) => [`${l.short} sum`, `${l.short} share`]),
    ...rest.map((l) => `shift ${l.short}`)], weightHead)
  fillTable(table.querySelector('tbody'), reply.perClass.map((c) => {
    const cells = [rowHead(String(c.class), c.class), cell('td', String(c.count), c.count), cell('td', pct(shares.rows[c.class]), shares.rows[c.class])]
    for (const l of losses) cells.push(cell('td', fmt(c[l.key].sum), c[l.key].sum), cell('td', pct(shares[l.key][c.class]), shares[l.key][c.class]))
    for (const l of rest) {
      const shift = shares[l.key][c.class] - shares[first.key][c.class]
      const td = cell('td', signed(shift), shift)
      td.className = shift > 0.0005 ? 'up' : shift < -0.0005 ? 'down' : ''
      cells.push(td)
    }
    if (weights !== undefined) cells.push(cell('td', fmt(weights[c.class]), weights[c.class]))
    return cells
  }))
}

/** The k hardest rows by loss `by`, each with every loss's value, share of that loss's total and rank. */
export function hardestTable (table, { reply, losses }, by, k) {
  setHead(table, ['row', 'label', ...losses.flatMap((l) => [l.short, `${l.short} share`, `${l.short} rank`])])
  const position = (list) => new Map(list.map((r, i) => [JSON.stringify(r.index), { rank: i + 1, loss: r.loss }]))
  const ranks = Object.fromEntries(losses.map((l) => [l.key, position(reply[l.key].hardest)]))
  const rows = reply[by].hardest.slice(0, k).map((r) => {
    const key = JSON.stringify(r.index)
    return { index: r.index, label: r.label, ...Object.fromEntries(losses.map((l) => [l.key, ranks[l.key].get(key)])) }
  })
  fillTable(table.querySelector('tbody'), rows.map((r) => [
    rowHead(indexText(r.index), JSON.stringify(r.index)),
    cell('td', String(r.label), r.label),
    ...losses.flatMap((l) => {
      const total = reply[l.key].sum
      const { loss, rank } = r[l.key]
      return [cell('td', fmt(loss), loss), cell('td', pct(loss / total), loss / total), cell('td', String(rank), rank)]
    })
  ]))
  return { by, rows }
}
