import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mulberry32 } from '../../scripts/lib/random.js'
import { fnv1a, generateFlat, materialize, type GenSpec } from '../golden/inputs.js'

interface PrngCheck { seed: number, first: number[] }
interface GenCheck { $gen: GenSpec, count: number, fnv1a: number, first: number[] }
interface Fixture {
  prng: PrngCheck & { more: PrngCheck[] }
  gens: GenCheck[]
  cases: Array<{ name: string, request: Record<string, unknown> }>
}

function load (file: string): Fixture {
  return JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as Fixture
}

const files = ['../golden/cases.json', '../golden/temporal.json'] as const

test('mulberry32 matches the values generate.py stored', () => {
  const { prng } = load('../golden/cases.json')
  for (const { seed, first } of [prng, ...prng.more]) {
    const next = mulberry32(seed)
    assert.deepEqual(first.map(() => next()), first, `seed ${seed}`)
  }
})

for (const file of files) {
  test(`every $gen placeholder in ${file} expands bit-identically to generate.py`, () => {
    const { gens } = load(file)
    assert.ok(gens.length > 0)
    for (const g of gens) {
      const { flat } = generateFlat(g.$gen)
      const label = JSON.stringify(g.$gen)
      assert.equal(flat.length, g.count, label)
      assert.deepEqual(flat.slice(0, g.first.length), g.first, label)
      assert.equal(fnv1a(flat, g.$gen.kind === 'index' || g.$gen.kind === 'binary'), g.fnv1a, label)
    }
  })
}

test('materialize replaces placeholders at any depth and copies the rest', () => {
  const body = {
    logits: { $gen: { kind: 'logits', seed: 1, shape: [2, 3, 2], scale: 8 } },
    labels: { $gen: { kind: 'index', seed: 2, n: 2, t: 2, classes: 3, ignoreEvery: 2 } },
    weight: [1, 2, 3],
    nested: { alpha: { $gen: { kind: 'uniform', seed: 3, shape: [3], low: 0, high: 1 } }, other: null }
  }
  const before = JSON.stringify(body)
  const out = materialize(body) as {
    logits: number[][][], labels: number[][], weight: number[], nested: { alpha: number[], other: null }
  }
  assert.equal(JSON.stringify(body), before, 'input not mutated')
  assert.equal(out.logits.length, 2)
  assert.equal(out.logits[1]?.length, 3)
  assert.equal(out.logits[1]?.[2]?.length, 2)
  for (const v of out.logits.flat(2)) assert.ok(Math.abs(v) <= 8 && Math.fround(v) === v)
  assert.deepEqual(out.labels.map((row) => row[1]), [-100, -100])
  assert.deepEqual(out.weight, [1, 2, 3])
  assert.equal(out.nested.alpha.length, 3)
  assert.equal(out.nested.other, null)
})

test('probs rows are positive float32 values summing to 1', () => {
  const { flat } = generateFlat({ kind: 'probs', seed: 5, shape: [4, 7], power: 3 })
  for (let r = 0; r < 4; r++) {
    const row = flat.slice(r * 7, r * 7 + 7)
    assert.ok(row.every((v) => v > 0 && Math.fround(v) === v))
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6)
  }
})

for (const file of files) {
  test(`${file}: unique names, every request materializes`, () => {
    const { cases } = load(file)
    const names = new Set(cases.map((c) => c.name))
    assert.equal(names.size, cases.length)
    for (const c of cases) {
      const req = materialize(c.request) as { logits: unknown, labels: unknown }
      assert.ok(Array.isArray(req.logits), c.name)
      assert.ok(Array.isArray(req.labels), c.name)
    }
  })
}
