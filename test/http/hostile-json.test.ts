/**
 * Bodies an attacker or a careless client sends: nesting thousands of levels deep, a key given
 * twice (escaped spellings included), an enum value spelled wrong. Each answers 400 with an exact
 * message, on the body scanner's path and on the JSON.parse path (a UTF-8 BOM in front makes the
 * scanner decline, so the same body is sent both ways), and the next request is answered as usual.
 * The parser is backend-independent: one backend is enough.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper.js'
import { MAX_DEPTH } from '../../src/wire/json-structure.js'

const GOOD = '{"logits": [[2, -1, 0.5], [0.1, 0.2, 3]], "labels": [0, 2]}'
const V2_GOOD = { inputs: [{ name: 'logits', shape: [2, 3], datatype: 'FP32', data: [2, -1, 0.5, 0.1, 0.2, 3] }, { name: 'labels', shape: [2], datatype: 'INT64', data: [0, 2] }] }
const BOM = '\ufeff'

const nested = (depth: number, inner = ''): string => '['.repeat(depth) + inner + ']'.repeat(depth)
const deep = (field: string): string => `${field} nests deeper than ${MAX_DEPTH} levels, the limit`

interface Case { name: string, url?: string, body: string, message: string }

const rest: Case[] = [
  { name: 'deep logits', body: `{"logits": ${nested(5000, '1')}, "labels": [0]}`, message: deep('logits') },
  { name: 'deep labels', body: `{"logits": [[1, 2]], "labels": ${nested(5000)}}`, message: deep('labels') },
  { name: 'deep weight', body: `{"logits": [[1, 2]], "labels": [0], "weight": ${nested(5000)}}`, message: deep('weight') },
  { name: 'deep unknown field', body: `{"logits": [[1, 2]], "labels": [0], "extra": ${nested(5000)}}`, message: deep('extra') },
  { name: 'deep objects', body: `{"logits": [[1, 2]], "labels": [0], "extra": ${'{"a": '.repeat(5000)}1${'}'.repeat(5000)}}`, message: deep('extra') },
  { name: 'deep arrays in an object in an array', url: '/loss/focal', body: `{"logits": [[1, 2]], "labels": [0], "extra": [{"a": ${nested(5000)}}]}`, message: deep('extra[0].a') },
  { name: 'one level past the limit', body: `{"logits": ${nested(MAX_DEPTH)}}`, message: deep('logits') },
  { name: 'a deep array as the body', body: nested(MAX_DEPTH + 1), message: deep('body') },
  { name: 'a million deep array', body: nested(1e6), message: deep('body') },
  { name: 'a million opening brackets', body: '['.repeat(1e6), message: deep('body') },
  { name: 'deep after a syntax error', body: `{"logits": [[1, 2]], "labels": tru, "x": ${nested(5000)}}`, message: deep('x') },
  { name: 'repeated key after a syntax error', body: '{"logits": [[1, 2]], "logits": [0], "labels": tru}', message: 'body is not valid JSON: Unexpected token \'}\', ..."bels": tru}" is not valid JSON' },
  { name: 'repeated logits', body: '{"logits": [[1, 2]], "labels": [0], "logits": [[5, 1]]}', message: 'logits is given twice' },
  { name: 'repeated labels, escaped', body: '{"logits": [[1, 2]], "labels": [0], "l\\u0061bels": [1]}', message: 'labels is given twice' },
  { name: 'repeated option', body: '{"logits": [[1, 2]], "labels": [0], "reduction": "sum", "reduction": "none"}', message: 'reduction is given twice' },
  { name: 'repeated unknown field', body: '{"logits": [[1, 2]], "labels": [0], "x": 1, "x": 1}', message: 'x is given twice' },
  { name: 'repeated nested key', url: '/loss/focal', body: '{"logits": [[1, 2]], "labels": [0], "classBalance": {"counts": [1, 2], "beta": 0.5, "counts": [2, 1]}}', message: 'classBalance.counts is given twice' },
  { name: 'repeated nested key, escaped', url: '/loss/compare', body: '{"logits": [[1, 2]], "labels": [0], "classBalance": {"b\\u0065ta": 0.5, "counts": [1, 2], "beta": 0.9}}', message: 'classBalance.beta is given twice' },
  { name: 'repeated key in an object in an array', body: '{"logits": [[1, 2]], "labels": [0], "x": [1, {"a": 1, "b": {"c": 2}, "a": 3}]}', message: 'x[1].a is given twice' },
  { name: 'a key spelled like a string value', body: '{"logits": [[1, 2]], "labels": [0], "activation": "labels"}', message: 'activation = "labels" must be one of "softmax", "sigmoid"' },
  { name: 'reduction MEAN', body: '{"logits": [[1, 2]], "labels": [0], "reduction": "MEAN"}', message: 'reduction = "MEAN" must be one of "mean", "sum", "none"' },
  { name: 'reduction null', url: '/loss/focal', body: '{"logits": [[1, 2]], "labels": [0], "reduction": null}', message: 'reduction = null must be one of "mean", "sum", "none"' },
  { name: 'activation Softmax', url: '/loss/compare', body: '{"logits": [[1, 2]], "labels": [0], "activation": "Softmax"}', message: 'activation = "Softmax" must be one of "softmax", "sigmoid"' },
  { name: 'activation 1', url: '/loss/focal', body: '{"logits": [[1, 2]], "labels": [0], "activation": 1}', message: 'activation = 1 must be one of "softmax", "sigmoid"' },
  { name: 'repeated key in a losses entry', url: '/loss/compare', body: '{"logits": [[1, 2]], "labels": [0], "losses": [{"loss": "ce"}, {"loss": "poly", "epsilon": 1, "epsilon": 2}]}', message: 'losses[1].epsilon is given twice' },
  { name: 'repeated key in a losses entry, escaped', url: '/loss/compare', body: '{"logits": [[1, 2]], "labels": [0], "losses": [{"loss": "ce", "n\\u0061me": "a", "name": "b"}]}', message: 'losses[0].name is given twice' },
  { name: 'deep array in a losses entry', url: '/loss/compare', body: `{"logits": [[1, 2]], "labels": [0], "losses": [{"loss": "ce", "weight": ${nested(5000)}}]}`, message: deep('losses[0].weight') },
  { name: 'repeated epsilon', url: '/loss/poly', body: '{"logits": [[1, 2]], "labels": [0], "epsilon": 1, "epsilon": 2}', message: 'epsilon is given twice' },
  { name: 'repeated tau', url: '/loss/logit-adjusted', body: '{"logits": [[1, 2]], "labels": [0], "tau": 1, "tau": 2}', message: 'tau is given twice' },
  { name: 'repeated classCounts, escaped', url: '/loss/ldam', body: '{"logits": [[1, 2]], "labels": [0], "classCounts": [1, 2], "cl\\u0061ssCounts": [2, 1]}', message: 'classCounts is given twice' },
  { name: 'activation Sigmoid', url: '/loss/asymmetric', body: '{"logits": [[1, 2]], "labels": [0], "activation": "Sigmoid"}', message: 'activation = "Sigmoid" must be one of "softmax", "sigmoid"' },
  { name: 'deep classCounts', url: '/loss/seesaw', body: `{"logits": [[1, 2]], "labels": [0], "classCounts": ${nested(5000)}}`, message: deep('classCounts') }
]

const v2: Case[] = [
  { name: 'deep parameters', body: `{"parameters": ${nested(5000)}, "inputs": []}`, message: deep('parameters') },
  { name: 'deep parameter value', body: `{"parameters": {"gamma": ${nested(5000)}}, "inputs": []}`, message: deep('parameters.gamma') },
  { name: 'deep data', body: `{"inputs": [{"name": "logits", "shape": [1, 2], "datatype": "FP32", "data": ${nested(5000)}}]}`, message: deep('inputs[0].data') },
  { name: 'a million deep array', body: nested(1e6), message: deep('body') },
  { name: 'a million opening brackets', body: '['.repeat(1e6), message: deep('body') },
  { name: 'repeated parameter', body: '{"parameters": {"gamma": 1, "gamma": 2}, "inputs": []}', message: 'parameters.gamma is given twice' },
  { name: 'repeated input field', body: '{"inputs": [{"name": "logits", "shape": [1], "datatype": "FP32", "data": [1]}, {"name": "labels", "name": "logits"}]}', message: 'inputs[1].name is given twice' },
  { name: 'repeated inputs, escaped', body: `{"inputs": [], "\\u0069nputs": ${JSON.stringify(V2_GOOD.inputs)}}`, message: 'inputs is given twice' },
  { name: 'a parameter that is an array', body: '{"parameters": {"gamma": [1]}, "inputs": []}', message: 'parameters.gamma = [1] must be a string, a number or a boolean' }
]

describe('hostile JSON', () => {
  let app: FastifyInstance
  let tensors = 0
  let good: unknown
  let v2Good: unknown
  before(async () => {
    app = await build()
    tensors = tf.memory().numTensors
    good = (await app.inject({ method: 'POST', url: '/loss/ce', payload: GOOD, headers: { 'content-type': 'application/json' } })).json()
    v2Good = (await app.inject({ method: 'POST', url: '/v2/models/ce/infer', payload: V2_GOOD })).json()
  })
  after(async () => { await app.close() })

  async function expectNextFine (): Promise<void> {
    assert.deepEqual((await app.inject({ method: 'POST', url: '/loss/ce', payload: GOOD, headers: { 'content-type': 'application/json' } })).json(), good)
    assert.deepEqual((await app.inject({ method: 'POST', url: '/v2/models/ce/infer', payload: V2_GOOD })).json(), v2Good)
    assert.equal(tf.memory().numTensors, tensors)
  }

  for (const c of rest) {
    for (const [path, prefix] of [['scanner', ''], ['JSON.parse', BOM]] as const) {
      test(`${c.url ?? '/loss/ce'}: ${c.name} (${path} path)`, async () => {
        const res = await app.inject({ method: 'POST', url: c.url ?? '/loss/ce', payload: prefix + c.body, headers: { 'content-type': 'application/json' } })
        assert.equal(res.statusCode, 400, res.body)
        assert.deepEqual(res.json(), { statusCode: 400, error: 'Bad Request', message: c.message })
        await expectNextFine()
      })
    }
  }

  for (const c of v2) {
    for (const model of ['ce', 'focal', 'compare', 'poly', 'logit_adjusted', 'ldam', 'asymmetric', 'seesaw']) {
      test(`/v2/models/${model}/infer: ${c.name}`, async () => {
        const res = await app.inject({ method: 'POST', url: `/v2/models/${model}/infer`, payload: c.body, headers: { 'content-type': 'application/json' } })
        assert.equal(res.statusCode, 400, res.body)
        assert.deepEqual(res.json(), { error: c.message })
        await expectNextFine()
      })
    }
  }

  test('a repeated key in a binary request\'s JSON header', async () => {
    const header = Buffer.from('{"inputs": [{"name": "logits", "shape": [1, 2], "datatype": "FP32", "parameters": {"binary_data_size": 8, "binary_data_size": 8}}]}')
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/ce/infer',
      payload: Buffer.concat([header, Buffer.alloc(8)]),
      headers: { 'inference-header-content-length': String(header.length) }
    })
    assert.equal(res.statusCode, 400, res.body)
    assert.deepEqual(res.json(), { error: 'inputs[0].parameters.binary_data_size is given twice' })
    await expectNextFine()
  })

  test('bytes after the JSON header count for nothing: binary tensors sent without Inference-Header-Content-Length', async () => {
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'logits', shape: [1, 2], datatype: 'FP32', parameters: { binary_data_size: 8 } }] }))
    const res = await app.inject({ method: 'POST', url: '/v2/models/ce/infer', payload: Buffer.concat([header, Buffer.from('['.repeat(100) + '"x": 1, "x": 2')]) })
    assert.equal(res.statusCode, 400, res.body)
    assert.match(res.json().error, /^the JSON header is not valid JSON: .* \(binary tensor data after the JSON needs the Inference-Header-Content-Length header\)$/)
    await expectNextFine()
  })

  test('the deepest legitimate bodies pass: [N][C][T] logits, nested V2 data', async () => {
    const temporal = await app.inject({ method: 'POST', url: '/loss/ce', payload: { logits: [[[1, 2], [3, 4]]], labels: [[0, 1]] } })
    assert.equal(temporal.statusCode, 200, temporal.body)
    const data = await app.inject({ method: 'POST', url: '/v2/models/ce/infer', payload: { inputs: [{ ...V2_GOOD.inputs[0], data: [[2, -1, 0.5], [0.1, 0.2, 3]] }, V2_GOOD.inputs[1]] } })
    assert.deepEqual(data.json(), v2Good)
  })
})
