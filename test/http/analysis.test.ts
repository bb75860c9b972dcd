/**
 * Golden cases for breakdown, hardest, classBalance and /loss/compare (test/golden/analysis.json:
 * per-row losses from PyTorch in float64, aggregated in float64; class-balanced weights from the
 * formula in float64), through HTTP on every installed backend.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { BACKENDS, build } from '../helper.js'
import { materialize } from '../golden/inputs.js'
import { checkReply, close, loadCases, worst, type GoldenCase } from '../golden/check.js'

const cases = loadCases('../golden/analysis.json')

type Json = Record<string, any>

function sameKeys (got: Json, want: Json, what: string): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${what}: keys`)
}

function checkTotals (got: Json, want: Json, what: string): void {
  close(got.sum, want.sum, `${what}: sum`)
  if (want.mean === null) assert.equal(got.mean, null, `${what}: mean`)
  else close(got.mean, want.mean, `${what}: mean`)
}

function checkClass (got: Json | undefined, want: Json, what: string): void {
  assert.ok(got !== undefined, `${what}: missing`)
  sameKeys(got, want, what)
  assert.equal(got.class, want.class, `${what}: class`)
  assert.equal(got.count, want.count, `${what}: count`)
  if ('ce' in want) {
    checkTotals(got.ce, want.ce, `${what}.ce`)
    checkTotals(got.focal, want.focal, `${what}.focal`)
  } else {
    checkTotals(got, want, what)
  }
}

function checkPerClass (got: Json[], want: Json[] | { $summary: Json }, what: string): void {
  if (Array.isArray(want)) {
    assert.equal(got.length, want.length, `${what}: length`)
    want.forEach((w, i) => checkClass(got[i], w, `${what}[${i}]`))
    return
  }
  const { length, totals, sample } = want.$summary
  assert.equal(got.length, length, `${what}: length`)
  for (const w of sample as Json[]) checkClass(got[w.class as number], w, `${what}[${String(w.class)}]`)
  assert.equal(got.reduce((n, c) => n + (c.count as number), 0), totals.count, `${what}: total count`)
  assert.equal(got.filter((c) => ('ce' in c ? c.ce.mean : c.mean) === null).length, totals.nullMeans, `${what}: null means`)
  const sum = (pick: (c: Json) => number | null): number => got.reduce((s, c) => s + (pick(c) ?? 0), 0)
  if ('ce' in totals) {
    for (const loss of ['ce', 'focal']) {
      close(sum((c) => c[loss].sum), totals[loss].sum, `${what}: Σ ${loss}.sum`)
      close(sum((c) => c[loss].mean), totals[loss].mean, `${what}: Σ ${loss}.mean`)
    }
  } else {
    close(sum((c) => c.sum), totals.sum, `${what}: Σ sum`)
    close(sum((c) => c.mean), totals.mean, `${what}: Σ mean`)
  }
}

function checkHardest (got: Json[], want: Json[], what: string): void {
  assert.equal(got.length, want.length, `${what}: length`)
  want.forEach((w, i) => {
    assert.deepEqual(got[i]?.index, w.index, `${what}[${i}].index`)
    assert.equal(got[i]?.label, w.label, `${what}[${i}].label`)
    close(got[i]?.loss, w.loss, `${what}[${i}].loss`)
  })
}

function checkLoss (got: Json, want: Json, c: GoldenCase, via: string): void {
  const what = `${c.name} via ${via}`
  sameKeys(got, want, what)
  assert.equal(got.reduction, want.reduction, `${what}: reduction`)
  checkReply(got as GoldenCase['expected'], { ...c, expected: want as GoldenCase['expected'] }, via)
  if (want.hardest !== undefined) checkHardest(got.hardest, want.hardest, `${what}.hardest`)
}

function checkCase (got: Json, c: GoldenCase, via: string): void {
  const want = c.expected as Json
  const what = `${c.name} via ${via}`
  sameKeys(got, want, what)
  if (c.endpoint === 'compare') {
    checkLoss(got.ce, want.ce, c, `${via} (ce)`)
    checkLoss(got.focal, want.focal, c, `${via} (focal)`)
  } else {
    checkLoss(got, want, c, via)
  }
  if (want.perClass !== undefined) checkPerClass(got.perClass, want.perClass, `${what}: perClass`)
  if (want.classWeights !== undefined) assert.deepEqual(got.classWeights, want.classWeights, `${what}: classWeights`)
}

test('the analysis fixtures cover every feature and endpoint', () => {
  const has = (key: string): number => cases.filter((c) => c.request[key] !== undefined).length
  assert.ok(has('breakdown') >= 30 && has('hardest') >= 20 && has('classBalance') >= 20, 'features')
  assert.ok(cases.filter((c) => c.endpoint === 'compare').length >= 20, 'compare')
  assert.ok(cases.filter((c) => c.name.startsWith('temporal/')).length >= 10, 'temporal')
})

for (const backend of BACKENDS) {
  describe(`analysis golden cases on ${backend}`, () => {
    let app: FastifyInstance
    after(async () => { await app.close() })

    test('HTTP', async (t) => {
      Object.assign(worst, { relative: 0, name: '' })
      app = await build(backend)
      const tensors = tf.memory().numTensors
      for (const c of cases) {
        const res = await app.inject({ method: 'POST', url: `/loss/${c.endpoint}`, payload: materialize(c.request) as object })
        assert.equal(res.statusCode, 200, `${c.name}: ${res.body.slice(0, 300)}`)
        checkCase(res.json(), c, `HTTP on ${backend}`)
      }
      assert.equal(tf.memory().numTensors, tensors)
      t.diagnostic(`${cases.length} analysis cases on ${backend}; largest relative error ${worst.relative.toExponential(2)} (${worst.name})`)
    })

    test('classBalance excludes weight and alpha, and checks its fields', async () => {
      const base = { logits: [[1, 2, 3]], labels: [0], classBalance: { counts: [10, 5, 1], beta: 0.9 } }
      const cases: Array<[string, Json, string]> = [
        ['/loss/ce', { ...base, weight: [1, 1, 1] }, 'classBalance and weight are mutually exclusive: classBalance computes the weights'],
        ['/loss/focal', { ...base, alpha: 0.5 }, 'classBalance and alpha are mutually exclusive: classBalance computes the per-class alpha'],
        ['/loss/ce', { ...base, classBalance: { counts: [1, 2], beta: 0.9 } }, 'classBalance.counts has 2 values, expected 3 (one per class)'],
        ['/loss/ce', { ...base, classBalance: { counts: [1, 2, 3], beta: 1 } }, 'classBalance.beta = 1 must be < 1'],
        ['/loss/ce', { ...base, classBalance: { counts: [1, 0, 3], beta: 0.5 } }, 'classBalance.counts[1] = 0 must be > 0'],
        ['/loss/ce', { ...base, classBalance: { counts: [1, 2, 3] } }, 'classBalance.beta is required'],
        ['/loss/focal', { ...base, hardest: 2 }, 'hardest = 2 is outside [1, 1] (the number of rows)'],
        ['/loss/focal', { ...base, hardest: 0 }, 'hardest = 0 must be >= 1']
      ]
      for (const [url, payload, message] of cases) {
        const res = await app.inject({ method: 'POST', url, payload })
        assert.equal(res.statusCode, 400, res.body)
        assert.equal(res.json().message, message)
      }
    })
  })
}
