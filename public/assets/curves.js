/* global document */
/**
 * Figure 1 of Lin et al. 2017 ("Focal Loss for Dense Object Detection", arXiv:1708.02002), computed
 * by this service: for each γ one POST /loss/focal with activation "sigmoid", reduction "none",
 * labels all 1 and logits x = log(p / (1 - p)) on a grid of p, so each element's loss is
 * -α (1 - p)^γ log p and γ = 0 with α off is cross-entropy. Beside them, Poly-1 (Leng et al. 2022)
 * of either base from POST /loss/poly on the same logits: CE + ε(1 - p), FL + ε(1 - p)^(γ+1), α off.
 */
import { clearError, postJson, showError } from './api.js'
import { COLORS, Chart, curveChart } from './charts.js'

/** The grid sent as float32 (what the service computes on), with p read back from those logits. */
function grid () {
  const logits = []
  for (let i = 1; i < 200; i++) logits.push(Math.fround(Math.log(i / (200 - i))))
  // σ(20) = 1 - 2e-9: the p = 1 end of the axis, still a finite float32 logit.
  logits.push(20)
  return { logits, p: logits.map((x) => 1 / (1 + Math.exp(-x))) }
}

export function focalRequest (logits, gamma, alpha) {
  return { logits, labels: logits.map(() => 1), activation: 'sigmoid', reduction: 'none', gamma, alpha }
}

export function polyRequest (logits, base, epsilon, gamma) {
  return { logits, labels: logits.map(() => 1), activation: 'sigmoid', reduction: 'none', base, epsilon, ...(base === 'focal' ? { gamma, alpha: null } : {}) }
}

const polyLabel = (c) => `Poly-1 ${c.base === 'ce' ? 'CE' : `focal γ = ${c.gamma}`}, ε = ${c.epsilon}`

export function curvesSection (root, state) {
  const { logits, p } = grid()
  const chart = new Chart(root.querySelector('#curve-chart'), 360)
  state.charts.curves = chart
  const list = root.querySelector('#gamma-list')
  const alphaOn = root.querySelector('#curve-alpha-on')
  const alphaValue = root.querySelector('#curve-alpha')
  const logScale = root.querySelector('#curve-log')
  const errorBox = root.querySelector('#curve-error')
  let nextId = 0
  let generation = 0

  state.curves = []
  state.polyCurves = []
  const polyBox = { ce: root.querySelector('#curve-poly-ce'), focal: root.querySelector('#curve-poly-focal') }
  const epsilon = root.querySelector('#curve-epsilon')
  const polyGamma = root.querySelector('#curve-poly-gamma')

  const alpha = () => alphaOn.checked ? Number(alphaValue.value) : null

  function render () {
    const shown = state.curves.filter((c) => c.loss !== null)
    curveChart(chart, p, shown.map((c) => ({
      label: `γ = ${c.gamma}${c.alpha === null ? '' : `, α = ${c.alpha}`}`,
      color: c.color,
      values: c.loss
    })).concat(state.polyCurves.map((c) => ({ label: polyLabel(c), color: COLORS.poly[c.base], values: c.loss }))), { log: logScale.checked })
  }

  /** Fetches every curve whose inputs changed; a newer round makes older answers moot. */
  async function refresh () {
    const round = ++generation
    root.dataset.status = 'loading'
    const a = alpha()
    const stale = state.curves.filter((c) => c.loss === null || c.alpha !== a || c.request?.gamma !== c.gamma)
    const poly = ['ce', 'focal'].filter((base) => polyBox[base].checked)
      .map((base) => ({ base, epsilon: Number(epsilon.value), gamma: base === 'focal' ? Number(polyGamma.value) : undefined }))
    const drawnBefore = (c) => state.polyCurves.find((o) => o.base === c.base && o.epsilon === c.epsilon && o.gamma === c.gamma)
    try {
      const answers = await Promise.all(stale.map(async (c) => {
        const request = focalRequest(logits, c.gamma, a)
        return { c, request, reply: await postJson('loss/focal', request) }
      }))
      const polyAnswers = await Promise.all(poly.map(async (c) => {
        const known = drawnBefore(c)
        if (known !== undefined) return known
        const request = polyRequest(logits, c.base, c.epsilon, c.gamma)
        return { ...c, request, loss: (await postJson('loss/poly', request)).loss }
      }))
      if (round !== generation) return
      for (const { c, request, reply } of answers) Object.assign(c, { request, alpha: a, loss: reply.loss })
      state.polyCurves = polyAnswers
      clearError(errorBox)
      render()
      root.dataset.status = 'ready'
    } catch (err) {
      if (round !== generation) return
      showError(errorBox, err)
      root.dataset.status = 'error'
    }
    root.dataset.version = String(generation)
  }

  function addCurve (gamma) {
    const id = nextId++
    const curve = { id, gamma, alpha: null, color: COLORS.curves[id % COLORS.curves.length], request: null, loss: null, p }
    state.curves.push(curve)
    const item = document.createElement('li')
    item.style.setProperty('--swatch', curve.color)
    const label = document.createElement('label')
    const input = document.createElement('input')
    Object.assign(input, { type: 'number', min: '0', max: '20', step: '0.5', value: String(gamma), required: true })
    input.dataset.curve = String(curve.id)
    label.append('γ ', input)
    const remove = document.createElement('button')
    Object.assign(remove, { type: 'button', textContent: '×', title: 'remove this curve' })
    remove.setAttribute('aria-label', `remove the curve γ = ${gamma}`)
    input.addEventListener('change', () => {
      if (input.value === '') return
      curve.gamma = Number(input.value)
      remove.setAttribute('aria-label', `remove the curve γ = ${curve.gamma}`)
      refresh()
    })
    remove.addEventListener('click', () => {
      state.curves.splice(state.curves.indexOf(curve), 1)
      item.remove()
      render()
    })
    item.append(label, remove)
    list.append(item)
  }

  for (const gamma of [0, 0.5, 1, 2, 5]) addCurve(gamma)
  root.querySelector('#add-gamma').addEventListener('click', () => {
    const highest = Math.max(0, ...state.curves.map((c) => c.gamma))
    addCurve(highest + 1)
    refresh()
  })
  alphaOn.addEventListener('change', () => {
    alphaValue.disabled = !alphaOn.checked
    refresh()
  })
  alphaValue.addEventListener('change', () => { if (alphaValue.value !== '') refresh() })
  for (const input of [polyBox.ce, polyBox.focal, epsilon, polyGamma]) input.addEventListener('change', () => { if (input.value !== '') refresh() })
  logScale.addEventListener('change', render)
  alphaValue.disabled = !alphaOn.checked
  return refresh()
}
