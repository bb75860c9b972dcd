/**
 * Every case of test/golden/losses.json (generate_losses.py: the reference code of each loss in
 * float64 torch) on every backend, within the golden suite's tolerance (test/golden-check.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { activate } from '../../../src/engine/backend.js'
import { planLoss, run } from '../../../src/losses/index.js'
import { checkReply, worst } from '../../golden/check.js'
import { BACKENDS } from '../../helper.js'
import { caseInput, type LossCase } from './fixtures.js'

const cases = (JSON.parse(readFileSync(new URL('../../golden/losses.json', import.meta.url), 'utf8')) as { cases: LossCase[] }).cases

test('the fixtures cover every loss, reduction and identity', () => {
  for (const loss of ['poly', 'logit_adjusted', 'ldam', 'asymmetric', 'seesaw']) {
    const mine = cases.filter((c) => c.loss === loss)
    for (const red of ['mean', 'sum', 'none']) assert.ok(mine.some((c) => c.name.endsWith(`/${red}`)), `${loss} ${red}`)
    assert.ok(mine.some((c) => c.name.includes('/identity/')), `${loss} identity`)
    assert.ok(mine.some((c) => c.name.includes('/large')), `${loss} large`)
  }
})

for (const backend of BACKENDS) {
  test(`losses.json: ${cases.length} golden cases (${backend})`, async () => {
    await activate(backend)
    const before = tf.memory().numTensors
    for (const kind of new Set(cases.map((c) => c.loss))) {
      Object.assign(worst, { relative: 0, name: '' })
      for (const c of cases.filter((c) => c.loss === kind)) {
        const { input, spec } = caseInput(c)
        const result = run(planLoss(input, spec))
        const loss = result.reduction === 'none' ? nested(result.values) : result.loss
        checkReply({ loss, sum: result.sum, normalizer: result.normalizer }, { ...c, endpoint: 'ce', expected: c.expected }, backend)
        assert.equal(tf.memory().numTensors, before, c.name)
      }
      console.log(`# ${kind} on ${backend}: largest |d| / max(|want|, 0.05) = ${worst.relative.toExponential(2)} (${worst.name})`)
    }
  })
}

/** flatten() of checkReply accepts a flat array as the nested `none` reply. */
function nested (values: Float32Array): number[] {
  return Array.from(values)
}
