/**
 * The README's configuration table stays in step with the configuration schema: every variable is in its table,
 * with the schema's default where that does not depend on the machine.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { ConfigSchema } from '../../src/config.js'

const MACHINE_DEPENDENT = new Set(['WORKERS', 'MAX_HEAP_USED_BYTES'])

test('the configuration table lists every variable with its default', () => {
  const page = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = page.slice(page.indexOf('## Configuration'), page.indexOf('\n## ', page.indexOf('## Configuration') + 1))
  const rows = new Map([...section.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \|/gm)].map((m) => [m[1] ?? '', (m[2] ?? '').trim()]))
  const properties = ConfigSchema.properties as Record<string, { default?: unknown }>
  assert.deepEqual([...rows.keys()].sort(), Object.keys(properties).sort())
  for (const [key, schema] of Object.entries(properties)) {
    if (MACHINE_DEPENDENT.has(key)) continue
    assert.equal(rows.get(key), schema.default === undefined ? 'unset' : String(schema.default), key)
  }
})
