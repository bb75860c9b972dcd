/**
 * The bench's tables and its verdict on the targets.
 */
import type { Measurement } from './load.js'
import type { Scenario } from './scenarios.js'

export interface Row {
  readonly workers: number
  readonly scenario: Scenario
  readonly bodyBytes: number
  floor?: Measurement
  service?: Measurement
  /** Why the scenario did not run. */
  skipped?: string
  /** What the service answered to the probe request when it was not 2xx. */
  note?: string
}

export interface MemoryPoint {
  readonly requests: number
  /** RSS when the requests were done, wherever it fell on the GC sawtooth. */
  readonly rssMiB: number
  /** RSS after a full GC (bench/gc-signal.cjs): what is retained; the memory check compares these. */
  readonly rssAfterGcMiB: number
  readonly numTensors?: number
  readonly metric?: string
  readonly heapMiB?: number
}

export interface MemoryResult {
  readonly scenarios: readonly string[]
  /** Readings in request order; the check compares the first and the last. */
  readonly points: readonly MemoryPoint[]
  readonly errors: number
  readonly rps: number
}

export interface Verdict {
  readonly what: string
  readonly status: 'PASS' | 'FAIL' | 'SKIP'
  readonly detail: string
}

const MEMORY_TOLERANCE = 0.10

/** Left-aligns the first column, right-aligns the rest. */
export function align (rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length) })
  return rows.map((row) => row.map((cell, i) => i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')
}

const int = (n: number): string => Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'
const rps = (n: number): string => !Number.isFinite(n) ? '-' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : int(n)
const ms = (n: number): string => !Number.isFinite(n) ? '-' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)
const bytes = (n: number): string => n < 1024 * 1024 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`
const failures = (m: Measurement): number => m.errors + m.timeouts + m.non2xx

function ratio (row: Row, rows: readonly Row[]): number | undefined {
  const target = row.scenario.target
  if (row.service === undefined) return undefined
  if (target?.kind === 'json-floor') {
    const ref = rows.find((r) => r.workers === row.workers && r.scenario.id === target.of)?.floor
    return ref === undefined ? undefined : row.service.rps / ref.rps
  }
  if (target?.kind === 'service') {
    const ref = rows.find((r) => r.workers === row.workers && r.scenario.id === target.of)?.service
    return ref === undefined ? undefined : row.service.rps / ref.rps
  }
  return row.floor === undefined ? undefined : row.service.rps / row.floor.rps
}

function targetText (row: Row): string {
  const target = row.scenario.target
  if (target === undefined) return ''
  if (target.kind === 'service') return `>= ${target.ratio.toFixed(2)} x ${target.of}`
  return target.kind === 'floor' ? `>= ${target.ratio}` : `>= ${target.ratio} x JSON floor`
}

export function formatRows (rows: readonly Row[], workerCounts: readonly number[]): string {
  const parts: string[] = []
  for (const workers of workerCounts) {
    const mine = rows.filter((r) => r.workers === workers)
    const single = workers > 1 && rows.some((r) => r.workers === 1)
    const header = ['scenario', 'conn', 'body', 'floor rps', 'p50 ms', 'p99 ms', 'service rps', 'p50 ms', 'p99 ms', 'errors', 'non2xx', 'ratio', 'target', '']
    if (single) header.push('vs 1-proc floor')
    const lines: string[][] = [header]
    for (const row of mine) {
      const { scenario, floor, service } = row
      const cells = [scenario.title, String(scenario.connections), bytes(row.bodyBytes)]
      if (row.skipped !== undefined || floor === undefined || service === undefined) {
        lines.push([...cells, 'skipped'])
        continue
      }
      const r = ratio(row, rows)
      const target = scenario.target
      const verdict = target === undefined || r === undefined ? '' : r >= target.ratio ? 'PASS' : 'FAIL'
      cells.push(rps(floor.rps), ms(floor.p50), ms(floor.p99), rps(service.rps), ms(service.p50), ms(service.p99),
        String(service.errors + service.timeouts), String(service.non2xx), r === undefined ? '-' : r.toFixed(2), targetText(row), verdict)
      if (single) {
        const one = rows.find((o) => o.workers === 1 && o.scenario.id === scenario.id)?.floor
        cells.push(one === undefined ? '-' : (service.rps / one.rps).toFixed(2))
      }
      lines.push(cells)
    }
    if (parts.length > 0) parts.push('')
    parts.push(`service WORKERS=${workers} vs floor with ${workers} process${workers > 1 ? 'es' : ''} (latencies in ms; ratio = service rps / floor rps)`, align(lines), '')
    for (const row of mine) {
      if (row.skipped !== undefined) parts.push(`  ${row.scenario.id}: ${row.skipped}`)
      if (row.note !== undefined) parts.push(`  ${row.scenario.id}: ${row.note}`)
      for (const m of [row.floor, row.service]) {
        if (m !== undefined && failures(m) > 0) {
          parts.push(`  ${row.scenario.id} ${m === row.floor ? 'floor' : 'service'}: status codes ${JSON.stringify(m.statusCodes)}, ${m.errors} errors (${m.timeouts} timeouts)`)
        }
      }
    }
  }
  return parts.join('\n').trimEnd()
}

export function formatCpu (rows: readonly Row[], cores: number): string {
  const lines: string[][] = [['scenario', 'floor: client', 'server', 'other', 'service: client', 'server', 'other']]
  for (const row of rows) {
    const { floor, service } = row
    if (floor === undefined || service === undefined) continue
    const f = (n: number): string => n.toFixed(2)
    lines.push([`${row.scenario.title}, workers=${row.workers}`, f(floor.cpu.client), f(floor.cpu.server), f(floor.cpu.other),
      f(service.cpu.client), f(service.cpu.server), f(service.cpu.other)])
  }
  return `CPU while measuring, in cores busy (of ${cores}): client = this bench process (autocannon), ` +
    'server = the server\'s processes, other = everything else on the machine\n' + align(lines)
}

const change = (a: number, b: number): string => a === 0 ? (b === 0 ? '0%' : 'from 0') : `${b >= a ? '+' : ''}${(100 * (b - a) / a).toFixed(1)}%`

export function formatMemory (mem: MemoryResult): string {
  const a = mem.points[0]
  const b = mem.points[mem.points.length - 1]
  if (a === undefined || b === undefined) return 'memory: no readings'
  const tensors = (p: MemoryPoint): string => p.numTensors === undefined ? 'n/a' : String(p.numTensors)
  const heap = (p: MemoryPoint): string => p.heapMiB === undefined ? 'n/a' : p.heapMiB.toFixed(1)
  const lines = [
    ['after requests', 'RSS MiB', 'RSS after GC', 'numTensors', 'heap used MiB'],
    ...mem.points.map((p) => [int(p.requests), p.rssMiB.toFixed(1), p.rssAfterGcMiB.toFixed(1), tensors(p), heap(p)]),
    [`change ${int(a.requests)} -> ${int(b.requests)}`, change(a.rssMiB, b.rssMiB), change(a.rssAfterGcMiB, b.rssAfterGcMiB),
      a.numTensors === undefined || b.numTensors === undefined ? 'n/a' : change(a.numTensors, b.numTensors),
      a.heapMiB === undefined || b.heapMiB === undefined ? 'n/a' : change(a.heapMiB, b.heapMiB)]
  ]
  const source = a.metric === undefined ? 'numTensors: n/a, the service has no /metrics tensor gauge yet' : `numTensors from /metrics ${a.metric}`
  return `memory: a fresh service, WORKERS=1, 16 connections cycling ${mem.scenarios.join(', ')}; ${int(mem.rps)} rps, ${mem.errors} errors or non-2xx\n` +
    'RSS from ps -o rss= when the requests are done, then after a full GC (SIGUSR2 to the preloaded bench/gc-signal.cjs); ' +
    `${source} and heap used, after the GC\n` + align(lines)
}

export function checkRows (rows: readonly Row[]): Verdict[] {
  const out: Verdict[] = []
  for (const row of rows) {
    const what = `${row.scenario.id} workers=${row.workers}`
    if (row.skipped !== undefined || row.floor === undefined || row.service === undefined) {
      out.push({ what, status: 'SKIP', detail: row.skipped ?? 'not measured' })
      continue
    }
    for (const [side, m] of [['service', row.service], ['floor', row.floor]] as const) {
      const n = failures(m)
      out.push({ what: `${what} ${side} errors`, status: n === 0 ? 'PASS' : 'FAIL', detail: `${m.errors} errors, ${m.timeouts} timeouts, ${m.non2xx} non-2xx ${JSON.stringify(m.statusCodes)}` })
    }
    const target = row.scenario.target
    if (target === undefined) continue
    const r = ratio(row, rows)
    if (r === undefined) {
      out.push({ what, status: 'SKIP', detail: target.kind === 'floor' ? 'no floor figure' : `needs scenario ${target.of} in the same run` })
      continue
    }
    out.push({ what, status: r >= target.ratio ? 'PASS' : 'FAIL', detail: `ratio ${r.toFixed(2)}, target ${targetText(row)}` })
  }
  return out
}

export function checkMemory (mem: MemoryResult): Verdict[] {
  const a = mem.points[0]
  const b = mem.points[mem.points.length - 1]
  if (a === undefined || b === undefined) return [{ what: 'memory', status: 'SKIP', detail: 'no readings' }]
  const within = (x: number, y: number): boolean => Math.abs(y - x) <= MEMORY_TOLERANCE * Math.abs(x)
  const out: Verdict[] = [
    { what: 'memory errors', status: mem.errors === 0 ? 'PASS' : 'FAIL', detail: `${mem.errors} errors or non-2xx` },
    {
      what: 'memory RSS',
      status: within(a.rssAfterGcMiB, b.rssAfterGcMiB) ? 'PASS' : 'FAIL',
      detail: `after a full GC ${a.rssAfterGcMiB.toFixed(1)} -> ${b.rssAfterGcMiB.toFixed(1)} MiB (${change(a.rssAfterGcMiB, b.rssAfterGcMiB)}), limit ±${MEMORY_TOLERANCE * 100}%; ` +
        `without it ${a.rssMiB.toFixed(1)} -> ${b.rssMiB.toFixed(1)} MiB (${change(a.rssMiB, b.rssMiB)})`
    }
  ]
  if (a.numTensors === undefined || b.numTensors === undefined) {
    out.push({ what: 'memory numTensors', status: 'SKIP', detail: 'the service has no /metrics tensor gauge' })
  } else {
    out.push({ what: 'memory numTensors', status: within(a.numTensors, b.numTensors) ? 'PASS' : 'FAIL', detail: `${a.numTensors} -> ${b.numTensors}` })
  }
  return out
}
