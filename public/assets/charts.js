/* global ResizeObserver, devicePixelRatio */
/**
 * The page's charts, on uPlot (served from the service, see routes/page.ts). Each chart follows
 * its container's width; `draw` replaces the whole chart, which at these sizes costs a few ms and
 * keeps series, scales and legend in step with the data.
 */
import UPlot from './uPlot.esm.js'

export const COLORS = {
  samples: '#8c8c8c',
  ce: '#3b6fb6',
  focal: '#d9622b',
  curves: ['#3b6fb6', '#c83737', '#d4a017', '#7b4fa6', '#2e8b57', '#17a2b8', '#8c564b', '#d63384'],
  losses: { ce: '#3b6fb6', focal: '#d9622b', poly: '#2e8b57', ldam: '#7b4fa6', logit_adjusted: '#17a2b8', seesaw: '#8c564b', asymmetric: '#d63384' },
  poly: { ce: '#1b7a4a', focal: '#a0522d' }
}

const AXIS = { stroke: '#333', grid: { stroke: '#e6e6e6', width: 1 }, ticks: { stroke: '#ccc', width: 1 }, font: '12px system-ui, sans-serif', labelFont: '13px system-ui, sans-serif' }

/** Short, readable numbers for axes, legends and tables: 4 significant digits, exponent when tiny or huge. */
export function fmt (v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–'
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2)
  return Number(v.toPrecision(4)).toString()
}

/** A share as a percentage; below 0.1% with two significant digits, so a small share does not read as none. */
export function pct (v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–'
  return v > 0 && v < 0.001 ? `${(100 * v).toPrecision(2)}%` : `${(100 * v).toFixed(1)}%`
}

export class Chart {
  constructor (el, height) {
    this.el = el
    this.height = height
    this.plot = null
    new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: this.height })).observe(el)
  }

  width () {
    return Math.max(280, this.el.clientWidth)
  }

  draw (opts, data) {
    this.plot?.destroy()
    this.plot = new UPlot({ ...opts, width: this.width(), height: this.height }, data, this.el)
  }
}

function yScale (log) {
  return log
    ? { distr: 3, log: 10 }
    : { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] }
}

/** Shades the region x >= from and writes `text` in it: Figure 1's "well-classified examples". */
function shade (from, text) {
  return {
    hooks: {
      drawAxes: [(u) => {
        const { ctx } = u
        const left = u.valToPos(from, 'x', true)
        const right = u.bbox.left + u.bbox.width
        ctx.save()
        ctx.fillStyle = 'rgba(46, 139, 87, 0.08)'
        ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height)
        ctx.fillStyle = '#2e6b47'
        ctx.font = `${Math.round(12 * devicePixelRatio)}px system-ui, sans-serif`
        ctx.textAlign = 'center'
        ctx.fillText(text, (left + right) / 2, u.bbox.top + 18 * devicePixelRatio)
        ctx.restore()
      }]
    }
  }
}

/** Loss against p_t, one series per curve: `curves` = [{ label, color, values }] on the shared `x`. */
export function curveChart (chart, x, curves, { log = false } = {}) {
  chart.draw({
    scales: { x: { time: false, range: [0, 1] }, y: yScale(log) },
    axes: [
      { ...AXIS, label: 'probability of the true class, pₜ' },
      { ...AXIS, label: 'loss', size: 56, values: (_u, splits) => splits.map(fmt) }
    ],
    series: [
      { label: 'pₜ', value: (_u, v) => v === null ? '–' : v.toFixed(3) },
      ...curves.map((c) => ({ label: c.label, stroke: c.color, width: 2, points: { show: false }, value: (_u, v) => fmt(v) }))
    ],
    cursor: { drag: { x: false, y: false } },
    plugins: [shade(0.5, 'well-classified examples')]
  }, [x, ...curves.map((c) => c.values)])
}

const GROUP = 0.84

/** At most about 40 class names on the axis, so 400 classes stay readable; the legend names every bar. */
const MAX_TICKS = 40

/** A y range centred on zero, for differences that may have either sign. */
const signedScale = { range: (_u, min, max) => { const m = Math.max(Math.abs(min), Math.abs(max)) * 1.08; return m > 0 ? [-m, m] : [-1, 1] } }

/**
 * Side-by-side bars per class: `groups` = [{ label, color, values }], one value per bar; `labels`
 * names the bars when they are not classes 0…C−1 in order (e.g. classes sorted by their row count).
 */
export function barChart (chart, groups, { log = false, signed = false, format = fmt, yLabel = '', labels } = {}) {
  const classes = groups[0]?.values.length ?? 0
  const x = Array.from({ length: classes }, (_, c) => c)
  const name = (i) => String(labels === undefined ? i : labels[i])
  const step = Math.ceil(classes / MAX_TICKS)
  const bar = GROUP / groups.length
  chart.draw({
    scales: { x: { time: false, range: [-0.5, classes - 0.5] }, y: signed ? signedScale : yScale(log) },
    axes: [
      { ...AXIS, label: 'class', splits: () => x.filter((i) => i % step === 0), values: (_u, splits) => splits.map(name) },
      { ...AXIS, label: yLabel, size: 60, values: (_u, splits) => splits.map(format) }
    ],
    series: [
      { label: 'class', value: (_u, v) => v === null ? '–' : name(v) },
      ...groups.map((g, i) => ({
        label: g.label,
        stroke: g.color,
        fill: g.color,
        width: 0,
        points: { show: false },
        value: (_u, v) => format(v),
        paths: UPlot.paths.bars({
          disp: {
            x0: { unit: 1, values: (u) => u.data[0].map((c) => c - GROUP / 2 + i * bar) },
            size: { unit: 1, values: () => [bar] }
          }
        })
      }))
    ],
    cursor: { drag: { x: false, y: false }, points: { show: false } }
  }, [x, ...groups.map((g) => g.values)])
}

/** Cumulative share of the total against the share of rows, hardest rows first; the diagonal is an even spread. */
export function concentrationChart (chart, x, lines) {
  chart.draw({
    scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
    axes: [
      { ...AXIS, label: 'share of rows, hardest first', values: (_u, splits) => splits.map((s) => `${Math.round(100 * s)}%`) },
      { ...AXIS, label: 'share of the total loss', size: 56, values: (_u, splits) => splits.map((s) => `${Math.round(100 * s)}%`) }
    ],
    series: [
      { label: 'rows', value: (_u, v) => pct(v) },
      ...lines.map((l) => ({ label: l.label, stroke: l.color, width: l.dash ? 1 : 2, dash: l.dash, points: { show: false }, value: (_u, v) => pct(v) }))
    ],
    cursor: { drag: { x: false, y: false } }
  }, [x, ...lines.map((l) => l.values)])
}

/**
 * A reliability diagram: each bin's accuracy against its mean confidence (bars at the bin's centre,
 * null for an empty bin), the diagonal of perfect calibration, and the rows per bin on a second axis.
 */
export function reliabilityChart (chart, bins) {
  const x = bins.map((b) => (b.lower + b.upper) / 2)
  chart.draw({
    scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] }, rows: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] } },
    axes: [
      { ...AXIS, label: 'confidence (bin)', values: (_u, splits) => splits.map((s) => s.toFixed(1)) },
      { ...AXIS, label: 'accuracy', size: 50, values: (_u, splits) => splits.map((s) => s.toFixed(1)) },
      { ...AXIS, scale: 'rows', side: 1, label: 'rows in the bin', size: 56, grid: { show: false } }
    ],
    series: [
      { label: 'bin centre', value: (_u, v) => v === null ? '–' : v.toFixed(3) },
      {
        label: 'accuracy',
        stroke: COLORS.ce,
        fill: 'rgba(59, 111, 182, 0.55)',
        width: 0,
        points: { show: false },
        value: (_u, v) => fmt(v),
        paths: UPlot.paths.bars({ size: [0.9, Infinity, 2] })
      },
      { label: 'mean confidence', stroke: COLORS.focal, width: 0, paths: () => null, points: { show: true, size: 7, fill: COLORS.focal }, value: (_u, v) => fmt(v) },
      { label: 'perfect calibration', stroke: COLORS.samples, width: 1, dash: [4, 4], points: { show: false }, value: (_u, v) => fmt(v) },
      { label: 'rows', scale: 'rows', stroke: '#555', width: 1, points: { show: true, size: 4 }, value: (_u, v) => v === null ? '–' : String(v) }
    ],
    cursor: { drag: { x: false, y: false } }
  }, [x, bins.map((b) => b.accuracy), bins.map((b) => b.confidence), x, bins.map((b) => b.count)])
}
