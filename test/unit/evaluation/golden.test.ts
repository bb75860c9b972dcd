/**
 * Every case of test/golden/metrics.json (torchmetrics 1.2.0): counts, bin edges and confusion
 * exactly; every other number within |d| <= 1e-6 + 1e-5 |want| (torchmetrics sums and divides in
 * float32 where we use float64); null exactly where torchmetrics gives NaN.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { collect, computeMetrics, perClassMetrics } from '../../../src/evaluation/stats.js'
import { linspace32 } from '../../../src/evaluation/bins.js'
import { fnv1a, generateFlat } from '../../golden/inputs.js'
import { compare, fixture, prepare, worst } from './fixture.js'

test('linspace32 equals torch.linspace(0, 1, steps) in float32', () => {
  for (const [steps, values] of Object.entries(fixture.linspace)) assert.deepEqual(Array.from(linspace32(Number(steps))), values, `steps ${steps}`)
  for (const [steps, print] of Object.entries(fixture.linspaceFnv1a)) assert.equal(fnv1a(Array.from(linspace32(Number(steps))), false), print, `steps ${steps}`)
})

test('the $gen inputs of metrics.json expand as generate.py expands them', () => {
  for (const g of fixture.gens) {
    const { flat } = generateFlat(g.$gen)
    assert.equal(flat.length, g.count)
    assert.equal(fnv1a(flat, g.$gen.kind === 'index' || g.$gen.kind === 'binary'), g.fnv1a, JSON.stringify(g.$gen))
  }
})

for (const c of fixture.cases) {
  test(`metrics golden: ${c.name}`, () => {
    const p = prepare(c)
    const stats = collect(p.input, p.activation, p.ignoreIndex, p.options)
    assert.equal(stats.kind, c.kind)
    const { perClass: wantPerClass, ...want } = c.expected
    const { kind, ...report } = computeMetrics(stats, p.options, p.perClassLoss) as unknown as Record<string, unknown>
    assert.equal(kind, c.kind)
    // The generator stores reliability diagrams of at most 100 bins.
    if (!('reliability' in want)) delete report.reliability
    compare(report, want, c.name, false)
    const per = perClassMetrics(stats)
    const { kind: perKind, ...perValues } = per as unknown as Record<string, unknown>
    assert.equal(perKind, c.kind)
    compare(Object.fromEntries(Object.entries(perValues).map(([k, v]) => [k, Array.from(v as ArrayLike<number | null>)])), wantPerClass, `${c.name}.perClass`, false)
  })
}

test('report: worst golden error', () => {
  process.stdout.write(`# metrics golden: worst |d| / (1e-6 + 1e-5 |want|) = ${worst.error.toExponential(2)} at ${worst.what}\n`)
})
