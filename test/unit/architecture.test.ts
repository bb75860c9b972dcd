/**
 * Imports point down (docs/architecture.md): every relative import of src/, routes/ and schemas/ is
 * read and checked against the layers each layer may use.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

const LEAVES = ['errors', 'arrays', 'meta', 'config']

/** The layer a file belongs to. */
function layer (file: string): string {
  if (file === 'src/server.ts' || file === 'src/app.ts') return 'root'
  const leaf = /^src\/(\w+)\.ts$/.exec(file)?.[1]
  if (leaf !== undefined && LEAVES.includes(leaf)) return leaf
  if (file === 'src/losses/defaults.ts') return 'defaults'
  if (['src/wire/json-scan.ts', 'src/wire/json-structure.ts', 'src/wire/packed.ts'].includes(file)) return 'scan'
  const [top, sub, inner] = file.split('/')
  if (top === 'routes' || top === 'schemas') return top
  if (sub === 'wire') return `wire/${inner ?? ''}`
  return sub ?? top ?? file
}

const below = (...layers: string[]): Set<string> => new Set([...layers, ...LEAVES])
const ALLOWED: Readonly<Record<string, Set<string>>> = {
  routes: below('schemas', 'wire/json', 'wire/v2', 'dataplane'),
  schemas: new Set(['defaults']),
  plugins: below('schemas', 'scan', 'wire/json', 'wire/v2', 'dataplane', 'engine', 'losses', 'defaults', 'store'),
  'wire/json': below('scan', 'dataplane', 'losses', 'defaults', 'evaluation', 'schemas'),
  'wire/v2': below('scan', 'dataplane', 'losses', 'defaults', 'evaluation', 'schemas'),
  scan: below(),
  dataplane: below('engine', 'losses', 'defaults', 'evaluation', 'store'),
  engine: below('losses', 'defaults'),
  evaluation: below('losses', 'defaults'),
  store: below(),
  losses: below('defaults'),
  defaults: new Set(),
  errors: new Set(),
  arrays: new Set(),
  meta: new Set(),
  config: new Set()
}

function sources (dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

const IMPORT = /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'(\.{1,2}\/[^']+)'|(?:^|\n)\s*import\s+'(\.{1,2}\/[^']+)'/g

test('every import of src/, routes/ and schemas/ points down', () => {
  const problems: string[] = []
  const files = [...sources('src'), ...sources('routes'), ...sources('schemas')]
  for (const file of files) {
    const from = layer(file)
    const allowed = from === 'root' ? undefined : ALLOWED[from]
    if (from !== 'root' && allowed === undefined) problems.push(`${file}: layer ${from} is not in the table`)
    for (const match of readFileSync(join(ROOT, file), 'utf8').matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? ''
      const target = relative(ROOT, normalize(join(ROOT, dirname(file), spec))).replace(/\.js$/, '.ts')
      const to = layer(target)
      if (to === from || allowed === undefined) continue
      if (!allowed.has(to)) problems.push(`${file} (${from}) imports ${target} (${to})`)
    }
  }
  assert.ok(files.length > 40, `found only ${files.length} source files`)
  assert.deepEqual(problems, [])
})

test('no source file is over 400 lines (about 300 is the aim; the body scanner is one class)', () => {
  const long = [...sources('src'), ...sources('routes'), ...sources('schemas')]
    .map((file) => ({ file, lines: readFileSync(join(ROOT, file), 'utf8').split('\n').length }))
    .filter(({ lines }) => lines > 400)
  assert.deepEqual(long, [])
})
