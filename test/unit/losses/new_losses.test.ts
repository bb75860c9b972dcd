/**
 * The five losses of issue 10 on inputs small enough to check by hand, their identities with the
 * base losses, their argument checks (exact messages) and their tensor bookkeeping.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import { activate } from '../../../src/engine/backend.js'
import { InvalidInputError, UnrepresentableError } from '../../../src/errors.js'
import { ldamMargins, planLoss, run, type LossInput, type LossResult, type LossSpec } from '../../../src/losses/index.js'
import { BACKENDS } from '../../helper.js'
import { specOf } from './fixtures.js'

const index = (logits: number[][], labels: number[]): LossInput => ({
  logits: Float32Array.from(logits.flat()),
  shape: [logits.length, logits[0]?.length ?? 0],
  labels: { kind: 'index', data: Int32Array.from(labels), shape: [labels.length] }
})
const dense = (logits: number[][], targets: number[][]): LossInput => ({
  logits: Float32Array.from(logits.flat()),
  shape: [logits.length, logits[0]?.length ?? 0],
  labels: { kind: 'dense', data: Float32Array.from(targets.flat()), shape: [targets.length, targets[0]?.length ?? 0] }
})
const spec = (kind: LossSpec['kind'], request: Record<string, unknown>, name?: (f: string) => string): LossSpec =>
  ({ ...specOf(kind, request), ...(name === undefined ? {} : { name }) }) as LossSpec
const score = (input: LossInput, s: LossSpec): LossResult => run(planLoss(input, s))

function near (actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= 1e-6 + 2e-6 * Math.abs(expected), `${what}: ${actual} vs ${expected}`)
}

for (const backend of BACKENDS) {
  test(`hand-checked values (${backend})`, async () => {
    await activate(backend)
    const before = tf.memory().numTensors
    const even = index([[0, 0]], [0])
    // Poly-1 CE: ln 2 + eps (1 - 1/2).
    near(score(even, spec('poly', { epsilon: 3 })).loss, Math.LN2 + 1.5, 'poly ce')
    // Poly-1 softmax focal, gamma 1, alpha null: (1/2) ln 2 + eps (1/2)^2.
    near(score(even, spec('poly', { base: 'focal', gamma: 1, alpha: null, epsilon: -1 })).loss, Math.LN2 / 2 - 0.25, 'poly focal')
    // Poly-1 sigmoid CE at x = 0, t = 1: ln 2 + eps / 2 per element.
    near(score(dense([[0]], [[1]]), spec('poly', { activation: 'sigmoid', epsilon: 1 })).loss, Math.LN2 + 0.5, 'poly sigmoid')
    // Logit adjustment with priors (3/4, 1/4), tau 1, label 1: -log(e^ln(1/4) / (3/4 + 1/4)) = ln 4.
    near(score(even, spec('logit_adjusted', { classCounts: [3, 1] })).loss, Math.log(4 / 3), 'logit-adjusted label 0')
    near(score(index([[0, 0]], [1]), spec('logit_adjusted', { classCounts: [3, 1] })).loss, Math.log(4), 'logit-adjusted label 1')
    // LDAM, counts (1, 16): margins (1, 1/2) scaled to (1/2, 1/4); label 0, s = 2: z = (-1, 0).
    assert.deepEqual(Array.from(ldamMargins(Float32Array.from([1, 16]), 0.5)), [0.5, 0.25])
    near(score(even, spec('ldam', { classCounts: [1, 16], scale: 2 })).loss, Math.log(1 + Math.E), 'ldam')
    // Seesaw, counts (10, 1), label 0: mitigation 0.1^0.8 on class 1, no compensation (equal scores).
    near(score(even, spec('seesaw', { classCounts: [10, 1] })).loss, Math.log(1 + 0.1 ** 0.8), 'seesaw mitigation')
    // Label 1, the rare class: no mitigation; compensation (s_0 / s_1)^2 = e^2 for x = (1, 0).
    near(score(index([[1, 0]], [1]), spec('seesaw', { classCounts: [10, 1] })).loss, Math.log(1 + Math.exp(1 + 2)), 'seesaw compensation')
    // ASL at x = 0: positive 0.5 ln 2 (gamma+ 1); negative -ln(0.55) 0.45^4 (clip 0.05, gamma- 4).
    const asl = score(dense([[0, 0]], [[1, 0]]), spec('asymmetric', { activation: 'sigmoid', reduction: 'none' }))
    near(asl.values[0] ?? NaN, 0.5 * Math.LN2, 'asl positive')
    near(asl.values[1] ?? NaN, -Math.log(0.55) * 0.45 ** 4, 'asl negative')
    // Far below log(eps): the positive term is the clamp's -log(1e-8) (gamma+ 0), never NaN or inf.
    near(score(dense([[-1e3]], [[1]]), spec('asymmetric', { activation: 'sigmoid', gammaPos: 0 })).loss, -Math.log(1e-8), 'asl clamp')
    // eps = 0, where the reference's log(0) is -inf (and 0 * log 0 NaN): the unclamped log-sigmoid.
    near(score(dense([[-1e3, 1e3]], [[1, 0]]), spec('asymmetric', { activation: 'sigmoid', eps: 0, clip: 0, reduction: 'none' })).values[0] ?? NaN, 1e3, 'asl eps 0')
    // A negative with p <= clip has no loss at all.
    near(score(dense([[-5]], [[0]]), spec('asymmetric', { activation: 'sigmoid' })).loss, 0, 'asl shifted negative')
    assert.equal(tf.memory().numTensors, before)
  })

  test(`identities with the base losses (${backend})`, async () => {
    await activate(backend)
    const u = (i: number): number => Math.sin(i * 12.9898) * 6
    const logits = Array.from({ length: 12 }, (_, i) => Array.from({ length: 7 }, (_, c) => u(i * 7 + c)))
    const labels = logits.map((_, i) => (i * 5) % 7)
    const targets = logits.map((row, i) => row.map((_, c) => ((i + c) % 3) / 2))
    const x = index(logits, labels)
    const same = (a: LossResult, b: LossResult, what: string): void => {
      near(a.sum, b.sum, `${what} sum`)
      assert.equal(a.normalizer, b.normalizer, `${what} normalizer`)
      a.values.forEach((v, i) => near(v, b.values[i] ?? NaN, `${what} [${i}]`))
    }
    const counts = [900, 300, 100, 30, 10, 3, 1]
    const ce = score(x, spec('ce', { reduction: 'none', ignoreIndex: 3 }))
    same(score(x, spec('poly', { epsilon: 0, reduction: 'none', ignoreIndex: 3 })), ce, 'poly ce')
    same(score(x, spec('poly', { base: 'focal', epsilon: 0, reduction: 'none', labelSmoothing: 0.1 })), score(x, spec('focal', { reduction: 'none', labelSmoothing: 0.1 })), 'poly focal')
    same(score(x, spec('logit_adjusted', { classCounts: counts, tau: 0, reduction: 'none', ignoreIndex: 3 })), ce, 'logit-adjusted')
    same(score(x, spec('ldam', { classCounts: counts, maxMargin: 0, scale: 1, reduction: 'none', ignoreIndex: 3 })), ce, 'ldam')
    same(score(x, spec('seesaw', { classCounts: counts, p: 0, q: 0, reduction: 'none', ignoreIndex: 3 })), ce, 'seesaw')
    const t = dense(logits, targets)
    same(score(t, spec('asymmetric', { activation: 'sigmoid', gammaPos: 0, gammaNeg: 0, clip: 0, reduction: 'none' })), score(t, spec('ce', { activation: 'sigmoid', reduction: 'none' })), 'asl')
  })

  test(`a failing loss leaves no tensors behind (${backend})`, async () => {
    await activate(backend)
    const before = tf.memory().numTensors
    const huge = index([[3e38, -3e38, 0]], [1])
    assert.throws(() => score(huge, spec('poly', {})), UnrepresentableError)
    assert.throws(() => score(huge, spec('seesaw', { classCounts: [1, 2, 3] })), UnrepresentableError)
    assert.throws(() => score(index([[1, 2]], [0]), spec('ldam', { classCounts: [0, 1] })), InvalidInputError)
    assert.equal(tf.memory().numTensors, before)
  })
}

test('bad options: messages name the field as the caller does', () => {
  const x = index([[1, 2, 3], [0, 1, 0]], [0, 2])
  const fails = (s: LossSpec, message: string, input: LossInput = x): void => {
    assert.throws(() => planLoss(input, s), (err: unknown) => err instanceof InvalidInputError && err.message === message ? true : assert.fail(`${String(err)} != ${message}`))
  }
  const at2 = (f: string): string => `losses[2].${f}`
  fails(spec('poly', { epsilon: -2 }), 'epsilon = -2 must be >= -1')
  fails(spec('poly', { epsilon: -2 }, at2), 'losses[2].epsilon = -2 must be >= -1')
  fails(spec('poly', { epsilon: Number.NaN }), 'epsilon must be a finite number')
  fails(spec('poly', { base: 'dice' }), 'base = "dice" must be "ce" or "focal"')
  fails(spec('poly', { base: 'focal', gamma: -1 }, at2), 'losses[2].gamma = -1 must be >= 0')
  fails(spec('logit_adjusted', {}), 'classCounts is required')
  fails(spec('logit_adjusted', { classCounts: [1, 2] }), 'classCounts has 2 values, expected 3 (one per class)')
  fails(spec('logit_adjusted', { classCounts: [1, 0, 2] }, at2), 'losses[2].classCounts[1] = 0 must be > 0 when losses[2].tau != 0 (log of a zero prior is -∞)')
  fails(spec('logit_adjusted', { classCounts: [1, -2, 2] }), 'classCounts[1] = -2 must be >= 0')
  fails(spec('logit_adjusted', { classCounts: [1, 2, 2], tau: Infinity }), 'tau must be a finite number')
  fails(spec('logit_adjusted', { classCounts: [1, 2, 2], activation: 'sigmoid' }), 'activation must be "softmax": logit adjustment is a softmax loss')
  fails(spec('ldam', { classCounts: [1, 2, 3, 4, 0, 6, 7, 8, 9, 10] }), 'classCounts has 10 values, expected 3 (one per class)')
  fails(spec('ldam', { classCounts: [1, 2, 0] }), "classCounts[2] = 0 must be > 0 (LDAM's margin n^(-1/4) is infinite at 0)")
  fails(spec('ldam', { classCounts: [1, Number.NaN, 3] }), 'classCounts[1] = NaN must be a finite number')
  fails(spec('ldam', { classCounts: [1, 2, 3], scale: 0 }), 'scale = 0 must be > 0')
  fails(spec('ldam', { classCounts: [1, 2, 3], maxMargin: -0.5 }), 'maxMargin = -0.5 must be >= 0')
  fails(spec('ldam', { classCounts: [1, 2, 3], labelSmoothing: 0.1 }), 'labelSmoothing = 0.1 must be 0: LDAM has no label smoothing')
  fails(spec('ldam', { classCounts: [1, 2, 3] }), 'ldam takes class-index labels of shape [N], not probabilities', dense([[1, 2, 3]], [[0, 1, 0]]))
  fails(spec('asymmetric', {}), 'activation must be "sigmoid": the asymmetric loss is a sigmoid loss')
  fails(spec('asymmetric', { activation: 'sigmoid', clip: 1 }), 'clip = 1 is outside [0, 1)')
  fails(spec('asymmetric', { activation: 'sigmoid', clip: -0.1 }, (f) => f === 'clip' ? 'clip' : f), 'clip = -0.1 is outside [0, 1)')
  fails(spec('asymmetric', { activation: 'sigmoid', gammaNeg: -1 }, (f) => f.replace(/[A-Z]/g, (l) => `_${l.toLowerCase()}`)), 'gamma_neg = -1 must be >= 0')
  fails(spec('asymmetric', { activation: 'sigmoid', gammaPos: -0.5 }), 'gammaPos = -0.5 must be >= 0')
  fails(spec('asymmetric', { activation: 'sigmoid', eps: 1 }), 'eps = 1 is outside [0, 1)')
  fails(spec('seesaw', { classCounts: [1, 2, 3], p: -1 }), 'p = -1 must be >= 0')
  fails(spec('seesaw', { classCounts: [1, 2, 3], q: Number.NaN }), 'q must be a finite number')
  fails(spec('seesaw', { classCounts: [1, 2, 3], eps: 0 }), 'eps = 0 must be > 0')
  fails(spec('seesaw', { classCounts: [1, 2, 3] }), 'seesaw takes logits of shape [N, C], got [1, 3, 2]',
    { logits: new Float32Array(6), shape: [1, 3, 2], labels: { kind: 'index', data: Int32Array.from([0, 1]), shape: [1, 2] } })
})
