/* global document */
/**
 * DOM building for the runs views. Text goes in as textContent only: run names, metadata and
 * batch ids are the callers' strings and never become markup.
 */

/** An element with its text; `value`, when given, is the exact number or string behind the text (data-value). */
export function cell (tag, text, value) {
  const el = document.createElement(tag)
  el.textContent = text
  if (value !== undefined) el.dataset.value = String(value)
  return el
}

/** A row header cell (th scope=row). */
export function rowHead (text, value) {
  const th = cell('th', text, value)
  th.scope = 'row'
  return th
}

export function fillTable (tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement('tr')
    tr.append(...cells)
    return tr
  }))
}

/** A link to a place on this page: `hash` without its '#'. */
export function link (text, hash) {
  const a = cell('a', text)
  a.href = `#${hash}`
  return a
}

/** A cell that holds other elements (a link, a checkbox) instead of plain text. */
export function holder (tag, ...children) {
  const el = document.createElement(tag)
  el.append(...children)
  return el
}

/**
 * b − a with its sign, to the printed precision of `format`; marked better when b is lower (a loss,
 * a calibration error), or with `higher` when b is higher (an accuracy). Missing (null, or absent
 * from an older reply) reads –.
 */
export function differenceCell (difference, format, higher = false) {
  const known = difference !== null && difference !== undefined
  const text = known ? `${difference > 0 ? '+' : difference < 0 ? '−' : ''}${format(Math.abs(difference))}` : '–'
  const td = cell('td', text, known ? difference : '')
  if (known && difference !== 0) td.className = (difference < 0) !== higher ? 'better' : 'worse'
  return td
}

/**
 * A table's one header row: each column a title, or { title, sort } for a column sorted by its
 * button (wireSort's button[data-sort]). The thead stays, so wireSort's listener does too.
 */
export function setHead (table, columns) {
  const row = document.createElement('tr')
  row.append(...columns.map((c) => {
    const th = document.createElement('th')
    th.scope = 'col'
    if (typeof c === 'string') {
      th.textContent = c
    } else {
      const button = cell('button', c.title)
      button.type = 'button'
      button.dataset.sort = c.sort
      th.append(button)
    }
    return th
  }))
  table.querySelector('thead').replaceChildren(row)
}

/**
 * Sorting by a table's header buttons (button[data-sort] in thead): a click sorts by that column,
 * a second click reverses it; `sort` = { key, descending } is kept by the caller and updated here.
 * Returns the marking of the sorted column, for a header rebuilt later.
 */
export function wireSort (table, sort, rerender) {
  const mark = () => {
    for (const button of table.querySelectorAll('thead button[data-sort]')) {
      const th = button.closest('th')
      if (button.dataset.sort === sort.key) th.setAttribute('aria-sort', sort.descending ? 'descending' : 'ascending')
      else th.removeAttribute('aria-sort')
    }
  }
  table.querySelector('thead').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-sort]')
    if (button === null) return
    sort.descending = button.dataset.sort === sort.key ? !sort.descending : button.dataset.sort !== 'class'
    sort.key = button.dataset.sort
    mark()
    rerender()
  })
  mark()
  return mark
}

/** `items` ordered by `valueOf(item, key)`, ties by class; missing values (null) last either way. */
export function sortItems (items, sort, valueOf) {
  const sign = sort.descending ? -1 : 1
  return [...items].sort((x, y) => {
    const a = valueOf(x, sort.key)
    const b = valueOf(y, sort.key)
    if (a === null || b === null) return a === b ? x.class - y.class : a === null ? 1 : -1
    return a === b ? x.class - y.class : sign * (a - b)
  })
}
