/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time, and
 * self time by area (a package, a service source file, node core, GC). Also a CLI:
 * `node --import tsx bench/profile.ts FILE.cpuprofile [--top 25] [--skip-ms N]`.
 */
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly startTime: number
  readonly endTime: number
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

export interface Entry {
  readonly name: string
  readonly ms: number
  readonly share: number
}

export interface Summary {
  /** Milliseconds of samples counted (after the skipped start). */
  readonly totalMs: number
  readonly functions: readonly Entry[]
  readonly areas: readonly Entry[]
}

/** Where a function lives: an npm package, a file of the service, node core, or V8's own pseudo-frames. */
export function area (frame: CallFrame): string {
  const { url, functionName } = frame
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (pkg?.[1] !== undefined) return pkg[1]
  if (url.startsWith('node:')) return 'node:' + (url.slice(5).split('/').slice(0, 2).join('/'))
  const own = /\/(src|dist|bench)\/(.+?)(\.[jt]s)?$/.exec(url)
  if (own?.[1] !== undefined && own[2] !== undefined) return `${own[1]}/${own[2]}`
  if (url.startsWith('wasm://')) return 'wasm'
  return url
}

function location (frame: CallFrame): string {
  if (frame.url === '') return ''
  const short = frame.url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(/^.*\/(src|dist|bench)\//, '$1/')
  return `${short}:${frame.lineNumber + 1}`
}

/** Self time per function and per area, skipping the first `skipMs` of the profile (start-up). */
export function summarise (profile: CpuProfile, { top = 25, skipMs = 0 } = {}): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  const areas = new Map<string, number>()
  let elapsed = 0
  let total = 0
  profile.samples.forEach((id, i) => {
    // A sample's duration is the gap to the next one.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000
    elapsed += (profile.timeDeltas[i] ?? 0) / 1000
    if (elapsed < skipMs) return
    const node = byId.get(id)
    if (node === undefined) return
    const name = `${node.callFrame.functionName || '(anonymous)'} ${location(node.callFrame)}`.trim()
    self.set(name, (self.get(name) ?? 0) + ms)
    const where = area(node.callFrame)
    areas.set(where, (areas.get(where) ?? 0) + ms)
    total += ms
  })
  const ranked = (m: Map<string, number>, n: number): Entry[] => [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({ name, ms, share: total > 0 ? ms / total : 0 }))
  return { totalMs: total, functions: ranked(self, top), areas: ranked(areas, top) }
}

export function formatSummary (summary: Summary, excludeIdle = true): string {
  const busy = excludeIdle ? summary.totalMs - (summary.areas.find((a) => a.name === '(idle)')?.ms ?? 0) : summary.totalMs
  const line = (e: Entry): string => `${e.ms.toFixed(0).padStart(8)} ms ${(100 * e.ms / busy).toFixed(1).padStart(5)}%  ${e.name}`
  const keep = (e: Entry): boolean => !excludeIdle || e.name.split(' ')[0] !== '(idle)'
  return [
    `profiled ${(summary.totalMs / 1000).toFixed(1)} s, of which busy ${(busy / 1000).toFixed(1)} s; shares below are of busy time`,
    '',
    'self time by area:',
    ...summary.areas.filter(keep).map(line),
    '',
    'top functions by self time:',
    ...summary.functions.filter(keep).map(line)
  ].join('\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, 'skip-ms': { type: 'string', default: '0' } } })
  const file = positionals[0]
  if (file === undefined) {
    process.stderr.write('usage: node --import tsx bench/profile.ts FILE.cpuprofile [--top 25] [--skip-ms N]\n')
    process.exit(2)
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  process.stdout.write(formatSummary(summarise(profile, { top: Number(values.top), skipMs: Number(values['skip-ms']) })) + '\n')
}
