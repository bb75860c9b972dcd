/**
 * breakdown, hardest, class-balanced weights and model compare through V2. Every case of
 * test/golden/analysis.json, as JSON tensors and as binary tensors, answers exactly the numbers
 * POST /loss/<endpoint> answers for the JSON body (same outputs, in order, with their datatypes and
 * shapes), on every installed tfjs backend; bad requests are 400s naming the parameter or input.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { BACKENDS, build, post } from '../helper.js'
import { materialize } from '../golden/inputs.js'
import { loadCases } from '../golden/check.js'
import { binaryRequest, bytesOf, jsonRequest, type Tensor } from './v2/client.js'
import { expectedOutputs, inferTyped, shapeOf, toV2 } from './v2/golden.js'

const cases = loadCases('../golden/analysis.json')

const CE = '/v2/models/ce/infer'
const FOCAL = '/v2/models/focal/infer'
const COMPARE = '/v2/models/compare/infer'

for (const backend of BACKENDS) {
  describe(`analysis golden cases through V2 equal POST /loss on ${backend}`, () => {
    let app: FastifyInstance
    let tensorsBefore: number
    before(async () => {
      app = await build(backend)
      tensorsBefore = tf.memory().numTensors
    })
    after(async () => {
      assert.equal(tf.memory().numTensors, tensorsBefore)
      await app.close()
    })

    cases.forEach((c, i) => {
      test(c.name, async () => {
        const body = materialize(c.request) as Record<string, unknown>
        const rest = await post(app, `/loss/${c.endpoint}`, body)
        assert.equal(rest.status, 200, JSON.stringify(rest.json))
        const want = expectedOutputs(c.endpoint, rest.json, shapeOf(body.logits).length)
        const reduction = (c.endpoint === 'compare' ? rest.json.ce : rest.json).reduction
        const { tensors, parameters } = toV2(body, i)
        const url = `/v2/models/${c.endpoint}/infer`
        const binary = await inferTyped(app, binaryRequest(url, tensors, { parameters: { ...parameters, binary_data_output: true }, pad: i % 8 }))
        assert.equal(binary.status, 200, JSON.stringify(binary.header))
        assert.deepEqual(binary.outputs, want, 'binary')
        assert.deepEqual(binary.header.parameters, { reduction })
        const json = await inferTyped(app, jsonRequest(url, tensors, { parameters, nested: i % 2 === 0 }))
        assert.equal(json.status, 200, JSON.stringify(json.header))
        assert.deepEqual(json.outputs, want, 'JSON tensors')
      })
    })
  })
}

// One row of three classes: small enough that every bound is easy to read in the messages.
const logits: Tensor = { name: 'logits', datatype: 'FP32', shape: [1, 3], values: [1, 2, 3] }
const labels: Tensor = { name: 'labels', datatype: 'INT64', shape: [1], values: [0] }
const counts = (values: number[] = [10, 5, 1], datatype = 'INT64', shape = [values.length]): Tensor => ({ name: 'class_counts', datatype, shape, values })
const vector = (name: string, values: number[] = [1, 1, 1]): Tensor => ({ name, datatype: 'FP32', shape: [values.length], values })
const balanced = { class_balance_beta: 0.9 }

describe('V2 analysis: models, outputs and bad requests', () => {
  let app: FastifyInstance
  let tensorsBefore: number
  before(async () => {
    app = await build()
    tensorsBefore = tf.memory().numTensors
  })
  after(async () => {
    assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor leaked by any request, failed ones included')
    await app.close()
  })

  async function v2Error (request: InjectOptions): Promise<string> {
    const res = await app.inject(request)
    assert.equal(res.statusCode, 400, res.body)
    const body = res.json() as Record<string, unknown>
    assert.deepEqual(Object.keys(body), ['error'], res.body)
    return body.error as string
  }

  test('model compare: metadata lists the union of the inputs and both losses\' outputs; ready', async () => {
    const res = await app.inject({ method: 'GET', url: '/v2/models/compare' })
    assert.equal(res.statusCode, 200)
    const meta = res.json()
    assert.deepEqual(meta.inputs.map((i: { name: string }) => i.name), ['logits', 'labels', 'weight', 'pos_weight', 'alpha', 'class_counts'])
    assert.deepEqual(meta.outputs.map((o: { name: string }) => o.name), [
      'ce_loss', 'ce_sum', 'ce_normalizer', 'focal_loss', 'focal_sum', 'focal_normalizer',
      'per_class_count', 'ce_per_class_sum', 'ce_per_class_mean', 'focal_per_class_sum', 'focal_per_class_mean',
      'ce_hardest_index', 'ce_hardest_label', 'ce_hardest_loss', 'focal_hardest_index', 'focal_hardest_label', 'focal_hardest_loss',
      'class_weights'
    ])
    for (const url of ['/v2/models/compare/ready', '/v2/models/compare/versions/1/ready']) {
      assert.deepEqual((await app.inject({ method: 'GET', url })).json(), { name: 'compare', ready: true })
    }
  })

  test('without analysis parameters only the loss outputs; named outputs come alone, in the order named', async () => {
    const plain = await inferTyped(app, jsonRequest(COMPARE, [logits, labels]))
    assert.deepEqual(plain.outputs.map((o) => o.name), ['ce_loss', 'ce_sum', 'ce_normalizer', 'focal_loss', 'focal_sum', 'focal_normalizer'])
    const rest = (await post(app, '/loss/compare', { logits: [[1, 2, 3]], labels: [0], breakdown: true, hardest: 1, classBalance: { counts: [10, 5, 1], beta: 0.9 } })).json
    const named = await inferTyped(app, binaryRequest(COMPARE, [logits, labels, counts()], {
      parameters: { ...balanced, breakdown: true, hardest: 1 },
      outputs: [{ name: 'focal_hardest_index', parameters: { binary_data: true } }, { name: 'class_weights' }, { name: 'per_class_count', parameters: { binary_data: true } }]
    }))
    assert.deepEqual(named.outputs, [
      { name: 'focal_hardest_index', datatype: 'INT64', shape: [1], values: [rest.focal.hardest[0].index] },
      { name: 'class_weights', datatype: 'FP32', shape: [3], values: rest.classWeights },
      { name: 'per_class_count', datatype: 'FP64', shape: [3], values: rest.perClass.map((c: { count: number }) => c.count) }
    ])
  })

  test('hardest_index is [k, 2] for temporal input, INT64 little-endian in binary', async () => {
    const temporal: Tensor = { name: 'logits', datatype: 'FP32', shape: [2, 3, 2], values: [1, 0, 2, 1, 0, 3, -1, 2, 0.5, 0, 3, 1] }
    const frames: Tensor = { name: 'labels', datatype: 'INT32', shape: [2, 2], values: [0, 2, 1, -100] }
    const res = await app.inject(binaryRequest(FOCAL, [temporal, frames], { parameters: { hardest: 3, binary_data_output: true }, outputs: [{ name: 'hardest_index' }] }))
    assert.equal(res.statusCode, 200)
    const length = Number(res.headers['inference-header-content-length'])
    const header = JSON.parse(res.rawPayload.subarray(0, length).toString('utf8'))
    assert.deepEqual(header.outputs, [{ name: 'hardest_index', datatype: 'INT64', shape: [3, 2], parameters: { binary_data_size: 48 } }])
    const rest = (await post(app, '/loss/focal', { logits: [[[1, 0], [2, 1], [0, 3]], [[-1, 2], [0.5, 0], [3, 1]]], labels: [[0, 2], [1, -100]], hardest: 3 })).json
    assert.ok(res.rawPayload.subarray(length).equals(bytesOf('INT64', rest.hardest.flatMap((r: { index: number[] }) => r.index))))
  })

  test('class_counts: the JSON API\'s classBalance rules and messages, in V2 names', async () => {
    const nan = binaryRequest(CE, [logits, labels, counts([1, 2, NaN], 'FP64')], { parameters: balanced })
    const huge = binaryRequest(CE, [logits, labels, counts([2 ** 60, 1, 1])], { parameters: balanced })
    const cases: Array<[InjectOptions, string]> = [
      [jsonRequest(CE, [logits, labels, vector('weight'), counts()], { parameters: balanced }), 'class_counts and weight are mutually exclusive: class_counts computes the weights'],
      [jsonRequest(COMPARE, [logits, labels, vector('weight'), counts()], { parameters: balanced }), 'class_counts and weight are mutually exclusive: class_counts computes the weights'],
      [jsonRequest(FOCAL, [logits, labels, counts()], { parameters: { ...balanced, alpha: 0.5 } }), 'class_counts and alpha are mutually exclusive: class_counts computes the per-class alpha'],
      [jsonRequest(FOCAL, [logits, labels, counts()], { parameters: { ...balanced, alpha: -1 } }), 'class_counts and alpha are mutually exclusive: class_counts computes the per-class alpha'],
      [jsonRequest(COMPARE, [logits, labels, vector('alpha'), counts()], { parameters: balanced }), 'class_counts and alpha are mutually exclusive: class_counts computes the per-class alpha'],
      [jsonRequest(CE, [logits, labels, counts([1, 2])], { parameters: balanced }), 'class_counts has 2 values, expected 3 (one per class)'],
      [jsonRequest(CE, [logits, labels, counts()], { parameters: { class_balance_beta: 1 } }), 'parameters.class_balance_beta = 1 is outside [0, 1)'],
      [jsonRequest(CE, [logits, labels, counts()], { parameters: { class_balance_beta: '0.9' } }), 'parameters.class_balance_beta = "0.9" must be a number'],
      [jsonRequest(CE, [logits, labels, counts([1, 0, 3])], { parameters: balanced }), 'class_counts[1] = 0 must be > 0 (a class with no samples has no effective number)'],
      [jsonRequest(FOCAL, [logits, labels, counts([1, -2, 3], 'FP32')], { parameters: balanced }), 'class_counts[1] = -2 must be > 0 (a class with no samples has no effective number)'],
      [jsonRequest(CE, [logits, labels, counts()]), 'inputs[2] (class_counts) needs parameters.class_balance_beta, β in [0, 1)'],
      [jsonRequest(CE, [logits, labels], { parameters: balanced }), 'parameters.class_balance_beta needs the input class_counts, the training samples per class'],
      [jsonRequest(CE, [logits, labels, counts([1, 2, 3], 'INT32')], { parameters: balanced }), 'inputs[2] (class_counts) has datatype INT32, which class_counts does not support; send INT64 or FP32 or FP64'],
      [jsonRequest(CE, [logits, labels, counts([1, 2, 3], 'INT64', [3, 1])], { parameters: balanced }), 'inputs[2] (class_counts) has shape [3, 1]; it must be a vector [C], one value per class'],
      [jsonRequest(CE, [logits, labels, counts([1, 2.5, 3])], { parameters: balanced }), 'class_counts[1] = 2.5 is not an integer in [-(2^53 - 1), 2^53 - 1]'],
      [jsonRequest(CE, [logits, labels, counts([1e39, 1, 1], 'FP32')], { parameters: balanced }), 'class_counts[0] = 1e+39 is not a finite float32 value'],
      [huge, 'class_counts[0] = 1152921504606846976 is not an integer in [-(2^53 - 1), 2^53 - 1]'],
      [nan, 'class_counts[2] = NaN is not a finite number']
    ]
    for (const [request, message] of cases) assert.equal(await v2Error(request), message)
  })

  test('breakdown and hardest: types, the row bound, and outputs that need them', async () => {
    const temporal: Tensor = { name: 'logits', datatype: 'FP32', shape: [1, 3, 2], values: [1, 2, 3, 4, 5, 6] }
    const frames: Tensor = { name: 'labels', datatype: 'INT64', shape: [1, 2], values: [0, 1] }
    const cases: Array<[InjectOptions, string]> = [
      [jsonRequest(FOCAL, [logits, labels], { parameters: { hardest: 2 } }), 'parameters.hardest = 2 is outside [1, 1] (the number of rows)'],
      [jsonRequest(CE, [logits, labels], { parameters: { hardest: 0 } }), 'parameters.hardest = 0 is outside [1, 1] (the number of rows)'],
      [jsonRequest(COMPARE, [temporal, frames], { parameters: { hardest: 3 } }), 'parameters.hardest = 3 is outside [1, 2] (the number of frames)'],
      // Checked when given even if no hardest_* output is named, as the JSON API checks it.
      [jsonRequest(CE, [logits, labels], { parameters: { hardest: 5 }, outputs: [{ name: 'loss' }] }), 'parameters.hardest = 5 is outside [1, 1] (the number of rows)'],
      [jsonRequest(CE, [logits, labels], { parameters: { hardest: 1.5 } }), 'parameters.hardest = 1.5 must be an integer'],
      [jsonRequest(CE, [logits, labels], { parameters: { hardest: '1' } }), 'parameters.hardest = "1" must be an integer'],
      [jsonRequest(CE, [logits, labels], { parameters: { breakdown: 'yes' } }), 'parameters.breakdown = "yes" must be true or false'],
      [jsonRequest(CE, [logits, labels], { outputs: [{ name: 'loss' }, { name: 'per_class_sum' }] }), 'outputs[1] (per_class_sum) needs parameters.breakdown = true'],
      [jsonRequest(CE, [logits, labels], { parameters: { breakdown: false }, outputs: [{ name: 'per_class_count' }] }), 'outputs[0] (per_class_count) needs parameters.breakdown = true'],
      [jsonRequest(COMPARE, [logits, labels], { outputs: [{ name: 'focal_hardest_loss' }] }), 'outputs[0] (focal_hardest_loss) needs parameters.hardest = k, the number of rows to list'],
      [jsonRequest(FOCAL, [logits, labels], { outputs: [{ name: 'class_weights' }] }), 'outputs[0] (class_weights) needs the input class_counts and parameters.class_balance_beta'],
      [jsonRequest(COMPARE, [logits, labels], { outputs: [{ name: 'loss' }] }),
        'outputs[0] (loss) is not an output of model compare; the outputs are ce_loss, ce_sum, ce_normalizer, focal_loss, focal_sum, focal_normalizer, ' +
        'per_class_count, ce_per_class_sum, ce_per_class_mean, focal_per_class_sum, focal_per_class_mean, ce_hardest_index, ce_hardest_label, ce_hardest_loss, ' +
        'focal_hardest_index, focal_hardest_label, focal_hardest_loss, class_weights'],
      [jsonRequest(COMPARE, [logits, labels], { parameters: { classBalance: 1 } }),
        'parameters.classBalance is not a parameter of model compare; it takes activation, reduction, ignore_index, label_smoothing, gamma, alpha, breakdown, hardest, class_balance_beta, losses (and binary_data_output)'],
      [jsonRequest(COMPARE, [logits, labels, vector('pos_weight')]), 'pos_weight applies to activation "sigmoid" only'],
      [jsonRequest(COMPARE, [logits, labels], { parameters: { gamma: -1 } }), 'gamma = -1 must be >= 0']
    ]
    for (const [request, message] of cases) assert.equal(await v2Error(request), message)
  })
})
