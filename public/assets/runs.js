/* global document, window, clearTimeout, setTimeout */
/**
 * Evaluation runs: the list (GET /runs, newest first, a page at a time by its cursor), one run
 * (GET /runs/{id}, read again every POLL_MS while it is open, so batches show as they arrive) and
 * two runs side by side (GET /runs/{a}/compare/{b}). The URL hash names the view, so a run or a
 * comparison can be linked: #runs, #runs/{id}, #runs/{a}/compare/{b}.
 */
import { ApiError, clearError, getJson, showError } from './api.js'
import { fmt } from './charts.js'
import { cell, fillTable, holder, link } from './dom.js'
import { POLL_MS, compareHash, lossNames, runHash, runLabel, when } from './run-names.js'
import { compareView } from './run-compare.js'
import { runView } from './run-view.js'

const PAGE_SIZE = 10

/** The view a hash names; any other hash (none, or another section's) leaves the list showing. */
function parse (hash) {
  let parts
  try {
    parts = hash.replace(/^#/, '').split('/').map(decodeURIComponent)
  } catch {
    return { view: 'list', own: false }
  }
  if (parts[0] !== 'runs') return { view: 'list', own: false }
  if (parts.length === 2 && parts[1] !== '') return { view: 'run', id: parts[1], own: true }
  if (parts.length === 4 && parts[2] === 'compare' && parts[1] !== '' && parts[3] !== '') return { view: 'compare', a: parts[1], b: parts[3], own: true }
  return { view: 'list', own: true }
}

function listView (root, state) {
  const field = (id) => root.querySelector(`#${id}`)
  const table = field('runs-table')
  const cursors = [undefined]
  let page = 0
  /** The checked runs, in the order they were checked (kept across pages): [{ id, label }]. */
  let picked = []

  function syncPicked () {
    for (const box of table.querySelectorAll('input[type="checkbox"]')) box.checked = picked.some((p) => p.id === box.value)
    const button = field('runs-compare')
    button.disabled = picked.length !== 2
    field('runs-pick-note').textContent = picked.length === 2
      ? `a = ${picked[0].label}, b = ${picked[1].label}: differences are b − a`
      : 'Check two runs to compare them; the first checked is a, the baseline.'
  }

  function render ({ runs, views }) {
    field('runs-empty').hidden = runs.length > 0 || page > 0
    fillTable(table.querySelector('tbody'), runs.map((run, i) => {
      const view = views[i]
      const check = document.createElement('input')
      check.type = 'checkbox'
      check.value = run.id
      check.dataset.label = runLabel(run)
      check.setAttribute('aria-label', `compare ${runLabel(run)}`)
      // A run that scores no loss of this name (losses [ce, poly1] has no focal) shows none, as a run deleted meanwhile does.
      const loss = (name) => {
        const mean = view === null ? null : view[name]?.loss ?? null
        return cell('td', fmt(mean), mean ?? '')
      }
      const names = view === null ? '–' : lossNames(view).join(', ')
      const name = holder('th', link(runLabel(run), runHash(run.id)))
      name.scope = 'row'
      name.dataset.value = run.id
      return [
        holder('td', check), name,
        cell('td', run.status, run.status), cell('td', when(run.created), run.created),
        cell('td', String(run.classes), run.classes), cell('td', String(run.batches), run.batches), cell('td', String(run.rows), run.rows),
        cell('td', names, names), loss('ce'), loss('focal')
      ]
    }))
    field('runs-newer').disabled = page === 0
    field('runs-older').disabled = state.runs.list.next === null
    syncPicked()
  }

  table.addEventListener('change', (event) => {
    const box = event.target
    if (box.type !== 'checkbox') return
    picked = picked.filter((p) => p.id !== box.value)
    if (box.checked) picked = [...picked, { id: box.value, label: box.dataset.label }].slice(-2)
    syncPicked()
  })
  field('runs-compare').addEventListener('click', () => {
    if (picked.length === 2) window.location.hash = compareHash(picked[0].id, picked[1].id)
  })

  return {
    el: field('runs-list'),
    async load (_route, current) {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) })
      if (cursors[page] !== undefined) query.set('cursor', cursors[page])
      const list = await getJson(`runs?${query}`)
      // The list carries no losses: each run's totals are one GET of the run, a run deleted meanwhile shows none.
      const views = await Promise.all(list.runs.map((run) => getJson(runHash(run.id)).catch(() => null)))
      if (!current()) return false
      state.runs.list = { ...list, views }
      render(state.runs.list)
      return false
    },
    older () {
      const next = state.runs.list?.next
      if (next === null || next === undefined) return false
      cursors[page + 1] = next
      page += 1
      return true
    },
    newer () {
      if (page === 0) return false
      page -= 1
      return true
    }
  }
}

export function runsSection (root, state) {
  const field = (id) => root.querySelector(`#${id}`)
  const errorBox = field('runs-error')
  state.runs = { route: null, list: null, run: null, comparison: null }
  const views = { list: listView(root, state), run: runView(root, state), compare: compareView(root, state) }
  let generation = 0
  let rounds = 0
  let timer

  /** One read of the current view; an open run is read again after POLL_MS, until the view changes. */
  async function refresh (round) {
    const route = state.runs.route
    const view = views[route.view]
    const current = () => round === generation
    root.dataset.status = 'loading'
    view.el.setAttribute('aria-busy', 'true')
    let again = false
    try {
      again = await view.load(route, current)
      if (!current()) return
      clearError(errorBox)
      view.el.classList.remove('stale')
      root.dataset.status = 'ready'
    } catch (err) {
      if (!current()) return
      showError(errorBox, err)
      view.el.classList.add('stale')
      root.dataset.status = 'error'
      // An outage or a 5xx may pass, so an open view keeps reading; a 4xx (a deleted run, a missing token) will not.
      again = route.view !== 'list' && !(err instanceof ApiError && err.status < 500)
    } finally {
      if (current()) {
        view.el.removeAttribute('aria-busy')
        rounds += 1
        root.dataset.version = String(rounds)
        if (again) timer = setTimeout(() => refresh(round), POLL_MS)
      }
    }
  }

  function show () {
    const route = parse(window.location.hash)
    state.runs.route = route
    generation += 1
    clearTimeout(timer)
    for (const [name, view] of Object.entries(views)) view.el.hidden = name !== route.view
    field('runs-back').hidden = route.view === 'list'
    if (route.own) root.scrollIntoView()
    return refresh(generation)
  }

  const reload = () => {
    generation += 1
    clearTimeout(timer)
    return refresh(generation)
  }

  window.addEventListener('hashchange', show)
  field('runs-refresh').addEventListener('click', reload)
  field('runs-older').addEventListener('click', () => { if (views.list.older()) reload() })
  field('runs-newer').addEventListener('click', () => { if (views.list.newer()) reload() })
  show()
  return { refresh: reload }
}
