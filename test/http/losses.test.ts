/**
 * Issue 10's losses through the JSON API, on every installed tfjs backend: every golden case of
 * test/golden/losses.json (reference code or the paper's formula in float64 torch) through
 * POST /loss/<route> within golden/check.ts's tolerance; a five-loss /loss/compare whose numbers are
 * exactly the single-loss routes'; /loss/compare without `losses` unchanged.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { BACKENDS, post, suiteApp } from '../helper.js'
import { materialize } from '../golden/inputs.js'
import { checkReply, loadCases, worst, type GoldenCase } from '../golden/check.js'
import { classCounts, FIVE, FIVE_BODY, labels, logits, ROUTE, SINGLE } from './losses-cases.js'

type LossCase = GoldenCase & { loss: string }
const cases = loadCases('../golden/losses.json') as LossCase[]
const bodies = new Map(cases.map((c) => [c.name, materialize(c.request) as Record<string, unknown>]))
const body = (c: LossCase): Record<string, unknown> => bodies.get(c.name) ?? {}

test('the fixtures cover every loss, every reduction and both activations', () => {
  assert.deepEqual([...new Set(cases.map((c) => c.loss))].sort(), ['asymmetric', 'ldam', 'logit_adjusted', 'poly', 'seesaw'])
  for (const r of ['mean', 'sum', 'none']) assert.ok(cases.some((c) => c.request.reduction === r), r)
  assert.ok(cases.length >= 200, `${cases.length} cases`)
})

for (const backend of BACKENDS) {
  describe(`issue 10's losses over JSON on ${backend}`, () => {
    let app: FastifyInstance
    suiteApp((built) => { app = built }, backend)

    test('every golden case', async (t) => {
      Object.assign(worst, { relative: 0, name: '' })
      for (const c of cases) {
        const url = ROUTE[c.loss] ?? ''
        const res = await app.inject({ method: 'POST', url, payload: body(c) })
        assert.equal(res.statusCode, 200, `${c.name}: ${res.body.slice(0, 300)}`)
        checkReply(res.json(), c, `${url} on ${backend}`)
      }
      t.diagnostic(`${cases.length} golden cases on ${backend}; largest relative error ${worst.relative.toExponential(2)} (${worst.name})`)
    })

    test('a five-loss compare: each name has exactly its single route\'s numbers', async () => {
      const res = await app.inject({ method: 'POST', url: '/loss/compare', payload: FIVE_BODY })
      assert.equal(res.statusCode, 200, res.body)
      const reply = res.json()
      const names = FIVE.map((e) => e.name ?? e.loss)
      assert.deepEqual(Object.keys(reply), [...names, 'perClass'])
      for (const entry of FIVE) {
        const { loss, name, ...options } = entry
        const single = await post(app, SINGLE[loss] ?? '', { logits, labels, breakdown: true, hardest: 3, ...options })
        assert.equal(single.status, 200, JSON.stringify(single.json))
        const { perClass, ...totals } = single.json
        assert.deepEqual(reply[name ?? loss], totals, loss)
        perClass.forEach((row: { class: number, count: number, sum: number, mean: number | null }, k: number) => {
          assert.deepEqual(reply.perClass[k], { ...reply.perClass[k], class: row.class, count: row.count, [name ?? loss]: { sum: row.sum, mean: row.mean } })
        })
      }
    })

    test('compare with losses ce and focal has the shape and numbers of compare without', async () => {
      const plain = await app.inject({ method: 'POST', url: '/loss/compare', payload: { logits, labels, breakdown: true, gamma: 1, classBalance: { counts: classCounts, beta: 0.99 } } })
      const listed = await app.inject({
        method: 'POST',
        url: '/loss/compare',
        payload: { logits, labels, breakdown: true, classBalance: { counts: classCounts, beta: 0.99 }, losses: [{ loss: 'ce' }, { loss: 'focal', gamma: 1 }] }
      })
      assert.equal(plain.statusCode, 200, plain.body)
      assert.equal(listed.body, plain.body)
      assert.deepEqual(Object.keys(plain.json()), ['ce', 'focal', 'perClass', 'classWeights'])
    })

    test('classBalance applies to Poly-1 as to its base; with epsilon 0 Poly-1 is its base', async () => {
      const targets = logits.map((row, i) => row.map((_, c) => (i + c) % 4 === 0 ? 1 : 0))
      const classBalance = { counts: classCounts, beta: 0.999 }
      for (const [activation, y, base] of [['softmax', labels, 'ce'], ['softmax', labels, 'focal'], ['sigmoid', targets, 'ce'], ['sigmoid', targets, 'focal']] as const) {
        const want = await post(app, `/loss/${base}`, { logits, labels: y, activation, classBalance, reduction: 'none' })
        const got = await post(app, '/loss/poly', { logits, labels: y, activation, classBalance, reduction: 'none', base, epsilon: 0 })
        assert.equal(got.status, 200, JSON.stringify(got.json))
        assert.deepEqual(got.json, want.json, `${activation} ${base}`)
      }
    })

    test('a sigmoid compare: poly, asymmetric, ce and focal on the same targets', async () => {
      const targets = logits.map((row, i) => row.map((_, c) => (i + c) % 4 === 0 ? 1 : 0))
      const losses = [{ loss: 'ce' }, { loss: 'focal' }, { loss: 'poly', base: 'focal', gamma: 1, epsilon: -0.5 }, { loss: 'asymmetric', gammaNeg: 2 }]
      const res = await post(app, '/loss/compare', { logits, labels: targets, activation: 'sigmoid', reduction: 'sum', losses })
      assert.equal(res.status, 200, JSON.stringify(res.json))
      for (const { loss, ...options } of losses) {
        const single = await post(app, SINGLE[loss] ?? '', { logits, labels: targets, activation: 'sigmoid', reduction: 'sum', ...options })
        assert.deepEqual(res.json[loss], single.json, loss)
      }
    })
  })
}
