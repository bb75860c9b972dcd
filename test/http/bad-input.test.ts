/**
 * Every kind of bad input answers a 4xx whose message names the field and the index; the next
 * request is answered as usual and no tensor is left behind.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { BACKENDS, build } from '../helper.js'

const good = { logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [0, 2] }
const sigmoid = { logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [[1, 0, 0], [0, 0.5, 1]], activation: 'sigmoid' }

interface Case {
  name: string
  url?: string
  /** An object is sent as JSON; a string is sent as is. */
  body: unknown
  contentType?: string
  status: number
  message: string | RegExp
}

const cases: Case[] = [
  { name: 'ragged rows', body: { ...good, logits: [[1, 2, 3], [1, 2]] }, status: 400, message: 'logits[1] has 2 values, expected 3' },
  { name: 'ragged 3-D', body: { logits: [[[1, 2], [3, 4]], [[1, 2], [3]]], labels: [[0, 1], [1, 0]] }, status: 400, message: 'logits[1][1] has 1 values, expected 2' },
  { name: 'empty batch', body: { logits: [], labels: [] }, status: 400, message: 'logits must not be empty' },
  { name: 'empty row', body: { logits: [[]], labels: [0] }, status: 400, message: 'logits[0] must not be empty' },
  { name: 'row not an array', body: { logits: [[1, 2], 3], labels: [0, 1] }, status: 400, message: 'logits[1] must be an array of 2 numbers, got 3' },
  { name: 'logits not an array', body: { logits: 'abc', labels: [0] }, status: 400, message: 'logits must be an array, got "abc"' },
  { name: 'four dimensions', body: { logits: [[[[1]]]], labels: [0] }, status: 400, message: 'logits has 4 dimensions, expected [N][C], [N] or [N][C][T]' },
  { name: 'label count mismatch', body: { ...good, labels: [0, 1, 2] }, status: 400, message: 'labels has 3 rows, expected 2 (one per row of logits)' },
  { name: 'target shape mismatch', body: { ...sigmoid, labels: [[1, 0], [0, 1]] }, status: 400, message: 'labels[0] has 2 values, expected 3' },
  { name: 'labels of the wrong rank', body: { ...good, labels: [[[0]], [[1]]] }, status: 400, message: 'labels has 3 dimensions, expected class indices [2] or targets [2, 3]' },
  { name: '1-D logits with softmax', body: { logits: [0.5, -1], labels: [1, 0] }, status: 400, message: 'logits of shape [N] need activation "sigmoid" (binary)' },
  { name: '3-D logits with sigmoid', body: { logits: [[[1, 2]]], labels: [[0, 1]], activation: 'sigmoid' }, status: 400, message: 'logits of shape [N, C, T] need activation "softmax"' },
  { name: 'string in logits', body: { ...good, logits: [[2, -1, 0.5], [0.1, '0.2', 3]] }, status: 400, message: 'logits[1][1] = "0.2" is not a number' },
  { name: 'null in logits', body: { ...good, logits: [[2, null, 0.5], [0.1, 0.2, 3]] }, status: 400, message: 'logits[0][1] = null is not a number' },
  { name: '1e400 in logits', body: '{"logits": [[2, -1, 0.5], [0.1, 1e400, 3]], "labels": [0, 2]}', status: 400, message: 'logits[1][1] = Infinity is not a finite float32 value' },
  { name: 'beyond float32', body: { ...good, logits: [[2, -1, 0.5], [0.1, 1e39, 3]] }, status: 400, message: 'logits[1][1] = 1e+39 is not a finite float32 value' },
  { name: 'fractional class index', body: { ...good, labels: [0, 1.5] }, status: 400, message: 'labels[1] = 1.5 is not an integer class index' },
  { name: 'string label', body: { ...good, labels: [0, '1'] }, status: 400, message: 'labels[1] = "1" is not a number' },
  { name: 'label out of range', body: { logits: Array.from({ length: 18 }, () => Array(10).fill(0)), labels: [...Array(17).fill(0), 12] }, status: 400, message: 'labels[17] = 12 is outside [0, 10)' },
  { name: 'negative label', body: { ...good, labels: [-1, 0] }, status: 400, message: 'labels[0] = -1 is outside [0, 3)' },
  { name: 'temporal label out of range', body: { logits: [[[1, 2], [3, 4]]], labels: [[0, 5]] }, status: 400, message: 'labels[0][1] = 5 is outside [0, 2)' },
  { name: 'sigmoid target above 1', body: { ...sigmoid, labels: [[1, 0, 0], [0, 1.5, 1]] }, status: 400, message: 'labels[1][1] = 1.5 is outside [0, 1]' },
  { name: 'sigmoid target negative', url: '/loss/focal', body: { ...sigmoid, labels: [[1, 0, -0.5], [0, 1, 1]] }, status: 400, message: 'labels[0][2] = -0.5 is outside [0, 1]' },
  { name: 'binary target above 1', body: { logits: [0.5, 1], labels: [0, 2], activation: 'sigmoid' }, status: 400, message: 'labels[1] = 2 is outside [0, 1]' },
  { name: 'weight too short', body: { ...good, weight: [1, 2] }, status: 400, message: 'weight has 2 values, expected 3 (one per class)' },
  { name: 'negative weight', body: { ...good, weight: [1, -2, 1] }, status: 400, message: 'weight[1] = -2 must be >= 0' },
  { name: 'posWeight too long', body: { ...sigmoid, posWeight: [1, 2, 3, 4] }, status: 400, message: 'posWeight has 4 values, expected 3 (one per class)' },
  { name: 'posWeight with softmax', body: { ...good, posWeight: [1, 2, 3] }, status: 400, message: 'posWeight applies to activation "sigmoid" only' },
  { name: 'alpha vector too short', url: '/loss/focal', body: { ...good, alpha: [0.5] }, status: 400, message: 'alpha has 1 values, expected 3 (one per class)' },
  { name: 'alpha vector above 1 with sigmoid', url: '/loss/focal', body: { ...sigmoid, alpha: [0.5, 2, 0.5] }, status: 400, message: 'alpha[1] = 2 is outside [0, 1]' },
  { name: 'alpha scalar above 1', url: '/loss/focal', body: { ...good, alpha: 1.5 }, status: 400, message: /^alpha = 1.5 is not valid/ },
  { name: 'negative gamma', url: '/loss/focal', body: { ...good, gamma: -1 }, status: 400, message: 'gamma = -1 must be >= 0' },
  { name: 'gamma 1e400', url: '/loss/focal', body: '{"logits": [[1, 2]], "labels": [0], "gamma": 1e400}', status: 400, message: 'gamma = Infinity must be a finite number' },
  { name: 'gamma as a string', url: '/loss/focal', body: { ...good, gamma: '2' }, status: 400, message: 'gamma = "2" must be a finite number' },
  { name: 'labelSmoothing above 1', body: { ...good, labelSmoothing: 1.5 }, status: 400, message: 'labelSmoothing = 1.5 must be <= 1' },
  { name: 'fractional ignoreIndex', body: { ...good, ignoreIndex: 0.5 }, status: 400, message: 'ignoreIndex = 0.5 must be a finite integer' },
  { name: 'unknown activation', body: { ...good, activation: 'relu' }, status: 400, message: 'activation = "relu" must be one of "softmax", "sigmoid"' },
  { name: 'unknown reduction', body: { ...good, reduction: 'avg' }, status: 400, message: 'reduction = "avg" must be one of "mean", "sum", "none"' },
  { name: 'typo in a field name', url: '/loss/focal', body: { ...good, gama: 1 }, status: 400, message: 'gama is not a known field' },
  { name: 'gamma on /loss/ce', body: { ...good, gamma: 1 }, status: 400, message: 'gamma is not a known field' },
  { name: 'weight on /loss/focal', url: '/loss/focal', body: { ...good, weight: [1, 1, 1] }, status: 400, message: 'weight is not a known field' },
  { name: 'missing labels', body: { logits: good.logits }, status: 400, message: 'labels is required' },
  { name: 'body is an array', body: '[1, 2, 3]', status: 400, message: 'body must be a JSON object' },
  { name: 'body is a string', body: '"hello"', status: 400, message: 'body must be a JSON object' },
  { name: 'body is null', body: 'null', status: 400, message: 'body must be a JSON object' },
  { name: 'broken JSON', body: '{"logits": [[1, 2]', status: 400, message: /^body is not valid JSON: / },
  { name: 'empty body', body: '', status: 400, message: 'body is empty; expected a JSON object' },
  { name: '__proto__ key', body: '{"logits": [[1, 2]], "labels": [0], "__proto__": {"polluted": true}}', status: 400, message: 'body has a forbidden key at body.__proto__' },
  { name: 'escaped __proto__ key', body: '{"logits": [[1, 2]], "labels": [0], "\\u005f_proto__": {"polluted": true}}', status: 400, message: 'body has a forbidden key at body.__proto__' },
  { name: 'nested __proto__ key', url: '/loss/focal', body: '{"logits": [[1, 2]], "labels": [0], "classBalance": {"counts": [1, 2], "beta": 0.5, "__proto__": {"polluted": true}}}', status: 400, message: 'body has a forbidden key at body.classBalance.__proto__' },
  { name: '__proto__ inside an array', body: '{"logits": [[1, {"__proto__": {"polluted": true}}]], "labels": [0]}', status: 400, message: 'logits[0][1] = an object is not a number' },
  { name: 'constructor.prototype key', body: '{"logits": [[1, 2]], "labels": [0], "constructor": {"prototype": {"polluted": true}}}', status: 400, message: 'body has a forbidden key at body.constructor' },
  { name: 'non-ASCII text is still UTF-8', body: '{"logits": [[1, 2]], "labels": [0], "activation": "softmax\u00e9"}', status: 400, message: 'activation = "softmaxé" must be one of "softmax", "sigmoid"' },
  { name: 'a UTF-8 byte order mark is allowed', body: '\ufeff{"logits": [[1, 2]], "labels": [0], "gamma": 1}', status: 400, message: 'gamma is not a known field' },
  { name: 'text/plain', body: 'logits=1', contentType: 'text/plain', status: 415, message: 'unsupported content-type "text/plain": send application/json' },
  { name: 'form data', body: 'logits=1', contentType: 'application/x-www-form-urlencoded', status: 415, message: 'unsupported content-type "application/x-www-form-urlencoded": send application/json' }
]

for (const backend of BACKENDS) {
  describe(`bad input on ${backend}`, () => {
    let app: FastifyInstance
    let tensors = 0
    before(async () => {
      app = await build(backend, { BODY_LIMIT: String(64 * 1024) })
      tensors = tf.memory().numTensors
    })
    after(async () => { await app.close() })

    for (const c of cases) {
      test(c.name, async () => {
        const res = await app.inject({
          method: 'POST',
          url: c.url ?? '/loss/ce',
          headers: { 'content-type': c.contentType ?? 'application/json' },
          payload: typeof c.body === 'string' ? c.body : JSON.stringify(c.body)
        })
        assert.equal(res.statusCode, c.status, res.body)
        const json = res.json()
        assert.equal(json.statusCode, c.status)
        assert.equal(json.error, c.status === 415 ? 'Unsupported Media Type' : 'Bad Request')
        if (typeof c.message === 'string') assert.equal(json.message, c.message)
        else assert.match(json.message, c.message)
        assert.equal(({} as Record<string, unknown>).polluted, undefined)
        const next = await app.inject({ method: 'POST', url: '/loss/ce', payload: good })
        assert.equal(next.statusCode, 200)
        assert.equal(tf.memory().numTensors, tensors)
      })
    }

    test('a body over the limit is a 413', async () => {
      const big = { logits: Array.from({ length: 2000 }, () => Array(10).fill(0.123456)), labels: Array(2000).fill(1) }
      const res = await app.inject({ method: 'POST', url: '/loss/focal', payload: big })
      assert.equal(res.statusCode, 413)
      assert.equal(res.json().error, 'Payload Too Large')
      assert.equal((await app.inject({ method: 'POST', url: '/loss/focal', payload: good })).statusCode, 200)
    })

    test('a mean over nothing is null, a sum 0', async () => {
      const all = { ...good, labels: [-100, -100] }
      for (const url of ['/loss/ce', '/loss/focal']) {
        assert.deepEqual((await app.inject({ method: 'POST', url, payload: all })).json(), { loss: null, reduction: 'mean', sum: 0, normalizer: 0 })
        assert.deepEqual((await app.inject({ method: 'POST', url, payload: { ...all, reduction: 'sum' } })).json(), { loss: 0, reduction: 'sum', sum: 0, normalizer: 0 })
        assert.deepEqual((await app.inject({ method: 'POST', url, payload: { ...all, reduction: 'none' } })).json(), { loss: [0, 0], reduction: 'none', sum: 0, normalizer: 0 })
      }
    })

    test('extreme finite logits give finite losses', async () => {
      const logits = [[1e4, -1e4, 0], [-1e4, 1e4, 1e4], [3e38, -3e38, 0]]
      for (const [url, extra] of [['/loss/ce', {}], ['/loss/focal', { gamma: 0.5 }], ['/loss/ce', { activation: 'sigmoid' }], ['/loss/focal', { activation: 'sigmoid' }]] as const) {
        const res = await app.inject({ method: 'POST', url, payload: { logits: logits.slice(0, 2), labels: [1, 0], reduction: 'none', ...extra } })
        assert.equal(res.statusCode, 200, res.body)
        for (const v of (res.json().loss as unknown[]).flat()) assert.ok(Number.isFinite(v), `${url}: ${String(v)}`)
      }
      const overflow = await app.inject({ method: 'POST', url: '/loss/ce', payload: { logits, labels: [1, 0, 1] } })
      assert.equal(overflow.statusCode, 422)
      assert.equal(overflow.json().message, 'the loss at [2] overflows float32; scale down the logits or weights')
      assert.equal(tf.memory().numTensors, tensors)
    })
  })
}
