/**
 * The V2 (Open Inference Protocol) surface: the protocol's own examples (server and model metadata,
 * health, a JSON-tensor inference), the binary tensor data extension byte for byte, every framing
 * error, and V2 answers equal to the JSON API's, on every installed tfjs backend.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { deflateSync, gzipSync } from 'node:zlib'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { buildApp, engineFor } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { BACKENDS, build, post, suiteApp } from '../helper.js'
import { flatten } from '../golden/inputs.js'
import { asLossReply, binaryRequest, bytesOf, infer, jsonRequest, readReply, type Tensor } from './v2/client.js'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string, version: string }

const CE = '/v2/models/ce/infer'
const FOCAL = '/v2/models/focal/infer'

// [3, 4] logits with class-index labels: small enough to read, large enough to have an index [2][3].
const LOGITS = [2.5, -1, 0.5, 0.25, 0.1, 0.2, 3, -2, -0.5, 1.5, 0.75, 4]
const LABELS = [0, 2, 3]
const logits = (datatype = 'FP32', values: ArrayLike<number> = LOGITS): Tensor => ({ name: 'logits', datatype, shape: [3, 4], values })
const labels = (datatype = 'INT64', values: ArrayLike<number> = LABELS): Tensor => ({ name: 'labels', datatype, shape: [3], values })
const jsonBody = { logits: [LOGITS.slice(0, 4), LOGITS.slice(4, 8), LOGITS.slice(8)], labels: LABELS }

/** A request whose answer is `{ error }` and nothing else; returns the message. */
async function v2Error (app: FastifyInstance, request: InjectOptions, status = 400): Promise<string> {
  const res = await app.inject(request)
  assert.equal(res.statusCode, status, res.body)
  const body = res.json() as Record<string, unknown>
  assert.deepEqual(Object.keys(body), ['error'], res.body)
  assert.equal(typeof body.error, 'string')
  return body.error as string
}

function raw (json: unknown, binary: Buffer, headerLength?: string, headers: Record<string, string> = {}): InjectOptions {
  const text = Buffer.from(JSON.stringify(json))
  return {
    method: 'POST',
    url: CE,
    payload: Buffer.concat([text, binary]),
    headers: { ...(headerLength === undefined ? {} : { 'inference-header-content-length': headerLength }), ...headers }
  }
}

const binaryInput = (name: string, datatype: string, shape: number[], size: number): object =>
  ({ name, datatype, shape, parameters: { binary_data_size: size } })

describe('V2 protocol surface', () => {
  let app: FastifyInstance
  suiteApp((built) => { app = built })

  test('GET /v2: server metadata with the binary tensor data extension', async () => {
    const res = await app.inject({ method: 'GET', url: '/v2' })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json(), { name: pkg.name, version: pkg.version, extensions: ['binary_tensor_data', 'parameters'] })
  })

  test('health: live and ready', async () => {
    assert.deepEqual((await app.inject({ method: 'GET', url: '/v2/health/live' })).json(), { live: true })
    const ready = await app.inject({ method: 'GET', url: '/v2/health/ready' })
    assert.equal(ready.statusCode, 200)
    assert.deepEqual(ready.json(), { ready: true })
    for (const url of ['/v2/models/ce/ready', '/v2/models/focal/versions/1/ready']) {
      const res = await app.inject({ method: 'GET', url })
      assert.equal(res.statusCode, 200)
      assert.deepEqual(res.json(), { name: url.split('/')[3], ready: true })
    }
  })

  test('draining: readiness is 503, liveness stays 200', async () => {
    app.draining = true
    try {
      const ready = await app.inject({ method: 'GET', url: '/v2/health/ready' })
      assert.equal(ready.statusCode, 503)
      assert.deepEqual(ready.json(), { ready: false })
      const model = await app.inject({ method: 'GET', url: '/v2/models/ce/ready' })
      assert.equal(model.statusCode, 503)
      assert.deepEqual(model.json(), { name: 'ce', ready: false })
      assert.equal((await app.inject({ method: 'GET', url: '/v2/health/live' })).statusCode, 200)
    } finally {
      app.draining = false
    }
  })

  test('model metadata: inputs and outputs with datatypes and -1 for variable dimensions', async () => {
    const ce = await app.inject({ method: 'GET', url: '/v2/models/ce' })
    assert.equal(ce.statusCode, 200)
    assert.deepEqual(ce.json(), {
      name: 'ce',
      versions: ['1'],
      platform: 'tfjs_loss',
      inputs: [
        { name: 'logits', datatype: 'FP32', shape: [-1, -1] },
        { name: 'labels', datatype: 'INT64', shape: [-1] },
        { name: 'weight', datatype: 'FP32', shape: [-1] },
        { name: 'pos_weight', datatype: 'FP32', shape: [-1] },
        { name: 'class_counts', datatype: 'INT64', shape: [-1] },
        { name: 'shot_counts', datatype: 'INT64', shape: [-1] }
      ],
      outputs: [
        { name: 'loss', datatype: 'FP64', shape: [-1] },
        { name: 'sum', datatype: 'FP64', shape: [1] },
        { name: 'normalizer', datatype: 'FP64', shape: [1] },
        { name: 'per_class_count', datatype: 'FP64', shape: [-1] },
        { name: 'per_class_sum', datatype: 'FP64', shape: [-1] },
        { name: 'per_class_mean', datatype: 'FP64', shape: [-1] },
        { name: 'hardest_index', datatype: 'INT64', shape: [-1] },
        { name: 'hardest_label', datatype: 'INT64', shape: [-1] },
        { name: 'hardest_loss', datatype: 'FP64', shape: [-1] },
        { name: 'class_weights', datatype: 'FP32', shape: [-1] },
        { name: 'metrics_rows', datatype: 'INT64', shape: [1] },
        { name: 'metrics_accuracy', datatype: 'FP64', shape: [1] },
        { name: 'metrics_topk_k', datatype: 'INT64', shape: [-1] },
        { name: 'metrics_topk', datatype: 'FP64', shape: [-1] },
        { name: 'metrics_mean_class_accuracy', datatype: 'FP64', shape: [1] },
        { name: 'metrics_precision', datatype: 'FP64', shape: [1] },
        { name: 'metrics_recall', datatype: 'FP64', shape: [1] },
        { name: 'metrics_f1', datatype: 'FP64', shape: [1] },
        { name: 'metrics_micro_f1', datatype: 'FP64', shape: [1] },
        { name: 'metrics_map', datatype: 'FP64', shape: [1] },
        { name: 'metrics_ap', datatype: 'FP64', shape: [1] },
        { name: 'metrics_auroc', datatype: 'FP64', shape: [1] },
        { name: 'metrics_ece', datatype: 'FP64', shape: [1] },
        { name: 'metrics_mce', datatype: 'FP64', shape: [1] },
        { name: 'metrics_rmsce', datatype: 'FP64', shape: [1] },
        { name: 'metrics_reliability', datatype: 'FP64', shape: [-1, 5] },
        { name: 'metrics_brier', datatype: 'FP64', shape: [1] },
        { name: 'metrics_confusion', datatype: 'INT64', shape: [-1, -1] },
        { name: 'metrics_shots', datatype: 'FP64', shape: [3, -1] },
        { name: 'metrics_per_class_recall', datatype: 'FP64', shape: [-1] },
        { name: 'metrics_per_class_precision', datatype: 'FP64', shape: [-1] },
        { name: 'metrics_per_class_f1', datatype: 'FP64', shape: [-1] },
        { name: 'metrics_per_class_ap', datatype: 'FP64', shape: [-1] }
      ]
    })
    const focal = (await app.inject({ method: 'GET', url: '/v2/models/focal/versions/1' })).json()
    assert.deepEqual(focal.inputs.map((i: { name: string }) => i.name), ['logits', 'labels', 'alpha', 'class_counts', 'shot_counts'])
    assert.deepEqual(focal.outputs, ce.json().outputs)
  })

  test('unknown models, versions and routes under /v2 are 404 { error }', async () => {
    assert.match(await v2Error(app, { method: 'GET', url: '/v2/models/bce' }, 404), /model "bce" not found; the models are ce, focal, compare/)
    assert.match(await v2Error(app, { method: 'GET', url: '/v2/models/ce/versions/2' }, 404), /no version "2"; the only version is 1/)
    assert.match(await v2Error(app, { ...jsonRequest('/v2/models/bce/infer', [logits(), labels()]) }, 404), /model "bce" not found/)
    assert.match(await v2Error(app, { method: 'GET', url: '/v2/models/ce/stats' }, 404), /not found/)
    assert.match(await v2Error(app, { method: 'POST', url: '/v2' }, 404), /Route POST:\/v2 not found/)
    assert.match(await v2Error(app, { method: 'GET', url: '/v2/models/ce/infer' }, 404), /not found/)
  })

  test('content types: none (tritonclient), application/octet-stream (KServe), application/json; /loss keeps its 415', async () => {
    const binary = binaryRequest(CE, [logits(), labels()])
    const expected = (await infer(app, binary)).outputs
    for (const type of ['application/octet-stream', 'application/json', 'application/vnd.custom']) {
      const reply = await infer(app, { ...binary, headers: { ...binary.headers, 'content-type': type } })
      assert.equal(reply.status, 200, type)
      assert.deepEqual(reply.outputs, expected, type)
    }
    const json = await infer(app, jsonRequest(CE, [logits(), labels()]))
    assert.deepEqual(asLossReply(json), asLossReply(await infer(app, binary)))
    for (const type of ['application/octet-stream', 'text/plain']) {
      const res = await app.inject({ method: 'POST', url: '/loss/ce', payload: JSON.stringify(jsonBody), headers: { 'content-type': type } })
      assert.equal(res.statusCode, 415, type)
      assert.equal(res.json().statusCode, 415)
    }
  })

  test('Inference-Header-Content-Length that is not a non-negative integer, or longer than the body', async () => {
    const bytes = Buffer.concat([bytesOf('FP32', LOGITS), bytesOf('INT64', LABELS)])
    const json = { inputs: [binaryInput('logits', 'FP32', [3, 4], 48), binaryInput('labels', 'INT64', [3], 24)] }
    const length = Buffer.byteLength(JSON.stringify(json))
    for (const bad of ['abc', '-4', '1.5', '0x10', '', `${length}, ${length}`]) {
      assert.match(await v2Error(app, raw(json, bytes, bad)), /Inference-Header-Content-Length must be a non-negative integer, got /, bad)
    }
    assert.equal(await v2Error(app, raw(json, bytes, String(length + 73))),
      `Inference-Header-Content-Length = ${length + 73} is larger than the body (${length + 72} bytes)`)
    // Too short: the JSON is cut; too long by a little: binary bytes are read as JSON.
    assert.match(await v2Error(app, raw(json, bytes, String(length - 1))), /^the JSON header is not valid JSON/)
    assert.match(await v2Error(app, raw(json, bytes, String(length + 4))), /^the JSON header is not valid JSON/)
    assert.match(await v2Error(app, raw(json, bytes)),
      /^the JSON header is not valid JSON: .* \(binary tensor data after the JSON needs the Inference-Header-Content-Length header\)$/)
    assert.equal(await v2Error(app, { method: 'POST', url: CE, payload: '', headers: { 'content-type': 'application/json' } }),
      'body is empty; expected a JSON inference request')
  })

  test('binary_data_size that does not match the shape, truncated bodies, leftover bytes', async () => {
    const bytes = Buffer.concat([bytesOf('FP32', LOGITS), bytesOf('INT64', LABELS)])
    const frame = (inputs: object[], binary = bytes): InjectOptions => raw({ inputs }, binary, String(Buffer.byteLength(JSON.stringify({ inputs }))))
    assert.equal(await v2Error(app, frame([binaryInput('logits', 'FP32', [3, 4], 44), binaryInput('labels', 'INT64', [3], 24)])),
      'inputs[0] (logits): binary_data_size = 44, but shape [3, 4] of FP32 is 48 bytes')
    assert.equal(await v2Error(app, frame([binaryInput('logits', 'FP32', [3, 4], 48), binaryInput('labels', 'INT64', [3], 24)], bytes.subarray(0, 60))),
      'inputs[1] (labels) needs 24 bytes of binary data at offset 48, but only 12 remain: the body is truncated or an earlier binary_data_size is too large')
    assert.equal(await v2Error(app, frame([binaryInput('logits', 'FP32', [3, 4], 48), binaryInput('labels', 'INT64', [3], 24)], Buffer.concat([bytes, Buffer.alloc(5)]))),
      '5 bytes of binary data after the last binary input belong to no input: the binary_data_size values or Inference-Header-Content-Length are wrong')
    const jsonOnly = { inputs: [{ name: 'logits', datatype: 'FP32', shape: [3, 4], data: LOGITS }, { name: 'labels', datatype: 'INT64', shape: [3], data: LABELS }] }
    assert.equal(await v2Error(app, raw(jsonOnly, Buffer.alloc(8), String(Buffer.byteLength(JSON.stringify(jsonOnly))))),
      '8 bytes of binary data after the JSON header belong to no input: the binary_data_size values or Inference-Header-Content-Length are wrong')
    for (const size of [-48, 4.5, '48']) {
      assert.match(await v2Error(app, frame([{ name: 'logits', datatype: 'FP32', shape: [3, 4], parameters: { binary_data_size: size } }])),
        /^inputs\[0\] \(logits\): parameters.binary_data_size = .* must be a non-negative integer$/)
    }
    assert.equal(await v2Error(app, frame([{ ...binaryInput('logits', 'FP32', [3, 4], 48), data: LOGITS }])),
      'inputs[0] (logits) has both data and parameters.binary_data_size; send one')
    assert.equal(await v2Error(app, frame([{ name: 'logits', datatype: 'FP32', shape: [3, 4] }])),
      'inputs[0] (logits) has neither data nor parameters.binary_data_size')
  })

  test('datatypes the inputs do not take are 400s that say which to send', async () => {
    const cases: Array<[Tensor[], string]> = [
      [[logits('FP16', [1, 2, 3, 4, 5, 6]), labels()], 'inputs[0] (logits) has datatype FP16, which logits does not support; send FP32 or FP64'],
      [[logits('INT32'), labels()], 'inputs[0] (logits) has datatype INT32, which logits does not support; send FP32 or FP64'],
      [[logits(), labels('UINT8')], 'inputs[1] (labels) has datatype UINT8, which labels does not support; send INT32 or INT64 or FP32 or FP64'],
      [[logits(), labels('BOOL')], 'inputs[1] (labels) has datatype BOOL, which labels does not support; send INT32 or INT64 or FP32 or FP64'],
      [[logits(), labels('BYTES')], 'inputs[1] (labels) has datatype BYTES, which labels does not support; send INT32 or INT64 or FP32 or FP64'],
      [[logits('float32'), labels()], 'inputs[0] (logits) has datatype "float32", which is not a V2 datatype (BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES)'],
      [[logits(), labels('FP32')], 'inputs[1] (labels) of shape [3] holds class indices for logits [3, 4]: send datatype INT32 or INT64 (or targets of shape [3, 4])']
    ]
    for (const [tensors, message] of cases) assert.equal(await v2Error(app, jsonRequest(CE, tensors)), message)
  })

  test('shape and data disagreeing, bad values: messages name the tensor and the index', async () => {
    const cases: Array<[InjectOptions, string]> = [
      [jsonRequest(CE, [{ ...logits(), values: LOGITS.slice(1) }, labels()]), 'inputs[0] (logits): data has 11 values, but shape [3, 4] needs 12'],
      [jsonRequest(CE, [{ ...logits(), shape: [4, 3] }, labels()], { nested: true }), 'labels has shape [3], expected [4]'],
      [{ ...jsonRequest(CE, [logits(), labels()]), payload: { inputs: [{ name: 'logits', datatype: 'FP32', shape: [3, 4], data: [[1, 2, 3, 4], [5, 6, 7], [8, 9, 10, 11]] }, { name: 'labels', datatype: 'INT64', shape: [3], data: LABELS }] } },
        'inputs[0] (logits): data[1] has 3 values, expected 4 numbers (shape [3, 4])'],
      [{ ...jsonRequest(CE, [logits(), labels()]), payload: { inputs: [{ name: 'logits', datatype: 'FP32', shape: [3, 4], data: 'AAAA' }, { name: 'labels', datatype: 'INT64', shape: [3], data: LABELS }] } },
        'inputs[0] (logits): data must be an array, got "AAAA"'],
      [{ ...jsonRequest(CE, [logits(), labels()]), payload: { inputs: [{ name: 'logits', datatype: 'FP32', shape: [3, 4], data: [...LOGITS.slice(0, 6), 'x', ...LOGITS.slice(7)] }, { name: 'labels', datatype: 'INT64', shape: [3], data: LABELS }] } },
        'logits[1][2] = "x" is not a number'],
      [jsonRequest(CE, [logits('FP64', [...LOGITS.slice(0, 11), 1e39]), labels()]), 'logits[2][3] = 1e+39 is not a finite float32 value'],
      [binaryRequest(CE, [logits('FP32', [...LOGITS.slice(0, 6), NaN, ...LOGITS.slice(7)]), labels()]), 'logits[1][2] = NaN is not a finite float32 value'],
      [binaryRequest(CE, [logits('FP64', [...LOGITS.slice(0, 4), -Infinity, ...LOGITS.slice(5)]), labels()]), 'logits[1][0] = -Infinity is not a finite float32 value'],
      [binaryRequest(CE, [logits('FP64', [...LOGITS.slice(0, 4), 3.5e38, ...LOGITS.slice(5)]), labels()]), 'logits[1][0] = 3.5e+38 is not a finite float32 value'],
      [binaryRequest(CE, [logits(), labels('INT64', [0, 2 ** 40, 1])]), 'labels[1] = 1099511627776 is not an integer class index'],
      [binaryRequest(CE, [logits(), labels('INT64', [0, -(2 ** 31) - 1, 1])]), 'labels[1] = -2147483649 is not an integer class index'],
      [binaryRequest(CE, [logits(), labels('INT32', [0, 4, 1])]), 'labels[1] = 4 is outside [0, 4)'],
      [jsonRequest(CE, [logits(), labels('INT32', [0, 1.5, 1])]), 'labels[1] = 1.5 is not an integer class index'],
      [jsonRequest(CE, [{ ...logits(), shape: [1, 3, 2, 2] }, labels()]), 'inputs[0] (logits) has shape [1, 3, 2, 2]; logits are [N, C], [N] or [N, C, T]'],
      [jsonRequest(CE, [{ ...logits(), shape: [3, 40000000000] }, labels()]), 'inputs[0] (logits) has shape [3, 40000000000], more values than the JSON header holds']
    ]
    for (const [request, message] of cases) assert.equal(await v2Error(app, request), message)
  })

  test('inputs, outputs and parameters the models do not have', async () => {
    const weight: Tensor = { name: 'weight', datatype: 'FP32', shape: [4], values: [1, 2, 3, 4] }
    const cases: Array<[InjectOptions, string]> = [
      [jsonRequest(CE, [logits(), labels(), { ...weight, name: 'weights' }]), 'inputs[2] (weights) is not an input of model ce; it takes logits, labels, weight, pos_weight, class_counts, shot_counts'],
      [jsonRequest(FOCAL, [logits(), labels(), { ...weight, name: 'pos_weight' }]), 'inputs[2] (pos_weight) is not an input of model focal; it takes logits, labels, alpha, class_counts, shot_counts'],
      [jsonRequest(CE, [logits(), labels(), labels()]), 'inputs[2] (labels): input labels is given twice'],
      [jsonRequest(CE, [logits()]), 'input labels is required'],
      [jsonRequest(CE, [logits(), labels(), { ...weight, shape: [2, 2] }]), 'inputs[2] (weight) has shape [2, 2]; it must be a vector [C], one value per class'],
      [jsonRequest(CE, [logits(), labels(), { ...weight, shape: [3], values: [1, 2, 3] }]), 'weight has 3 values, expected 4 (one per class)'],
      [jsonRequest(CE, [logits(), labels(), { ...weight, name: 'pos_weight' }]), 'pos_weight applies to activation "sigmoid" only'],
      [jsonRequest(CE, [logits(), labels(), { ...weight, name: 'pos_weight', values: [1, -1, 1, 1] }], { parameters: { activation: 'sigmoid' } }), 'pos_weight[1] = -1 is outside [0, ∞)'],
      [jsonRequest(CE, [logits(), labels()], { parameters: { gamma: 2 } }), 'parameters.gamma is not a parameter of model ce; it takes activation, reduction, ignore_index, label_smoothing, breakdown, hardest, class_balance_beta, metrics, topk, calibration_bins, confusion, shots_many, shots_few (and binary_data_output)'],
      [jsonRequest(CE, [logits(), labels()], { parameters: { reduction: 'avg' } }), 'parameters.reduction = "avg" must be one of "mean", "sum", "none"'],
      [jsonRequest(CE, [logits(), labels()], { parameters: { activation: 1 } }), 'parameters.activation = 1 must be one of "softmax", "sigmoid"'],
      [jsonRequest(CE, [logits(), labels()], { parameters: { ignore_index: 0.5 } }), 'parameters.ignore_index = 0.5 must be an integer'],
      [jsonRequest(CE, [logits(), labels()], { parameters: { label_smoothing: '0.1' } }), 'parameters.label_smoothing = "0.1" must be a number'],
      [jsonRequest(CE, [logits(), labels()], { parameters: { label_smoothing: 1.5 } }), 'label_smoothing = 1.5 is outside [0, 1]'],
      [jsonRequest(CE, [logits(), labels()], { parameters: { binary_data_output: 'yes' } }), 'parameters.binary_data_output = "yes" must be true or false'],
      [jsonRequest(FOCAL, [logits(), labels()], { parameters: { gamma: -1 } }), 'gamma = -1 must be >= 0'],
      [jsonRequest(FOCAL, [logits(), labels()], { parameters: { alpha: 1.5 } }), 'parameters.alpha = 1.5 is outside [0, 1] (or -1 for no balancing)'],
      [jsonRequest(FOCAL, [logits(), labels(), { ...weight, name: 'alpha', values: [0.1, 0.2, 0.3, 0.4] }], { parameters: { alpha: 0.5 } }), 'alpha is given both as an input and as parameters.alpha; send one'],
      [jsonRequest(CE, [logits(), labels()], { outputs: [{ name: 'losses' }] }), 'outputs[0] (losses) is not an output of model ce; the outputs are loss, sum, normalizer, per_class_count, per_class_sum, per_class_mean, hardest_index, hardest_label, hardest_loss, class_weights, metrics_rows, metrics_accuracy, metrics_topk_k, metrics_topk, ' +
        'metrics_mean_class_accuracy, metrics_precision, metrics_recall, metrics_f1, metrics_micro_f1, metrics_map, metrics_ap, metrics_auroc, metrics_ece, metrics_mce, ' +
        'metrics_rmsce, metrics_reliability, metrics_brier, metrics_confusion, metrics_shots, metrics_per_class_recall, metrics_per_class_precision, metrics_per_class_f1, metrics_per_class_ap'],
      [jsonRequest(CE, [logits(), labels()], { outputs: [{ name: 'loss' }, { name: 'loss' }] }), 'outputs[1] (loss): output loss is requested twice'],
      [jsonRequest(CE, [logits(), labels()], { outputs: [{ name: 'loss', parameters: { classification: 2 } }] }), 'outputs[0] (loss): parameters.classification is not supported; the only output parameter is binary_data'],
      [jsonRequest(CE, [logits(), labels()], { outputs: [{ name: 'loss', parameters: { binary_data: 1 } }] }), 'outputs[0] (loss): parameters.binary_data = 1 must be true or false'],
      [{ ...jsonRequest(CE, [logits(), labels()]), payload: { input: [] } }, 'inputs is required'],
      [{ ...jsonRequest(CE, [logits(), labels()]), payload: { ...(jsonRequest(CE, [logits(), labels()]).payload as object), output: [] } }, 'output is not a known field'],
    ]
    for (const [request, message] of cases) assert.equal(await v2Error(app, request), message)
    // The schema validator's wording is shared with the JSON API; it names the field.
    assert.match(await v2Error(app, { ...jsonRequest(CE, []), payload: { inputs: [] } }), /^inputs\b/)
    assert.match(await v2Error(app, { ...jsonRequest(CE, []), payload: { inputs: [{ name: 'logits', datatype: 'FP32', data: LOGITS }] } }), /^inputs\W+0\W+shape is required$/)
  })

  test('parameters tritonclient and KServe may send are accepted', async () => {
    const reply = await infer(app, jsonRequest(CE, [logits(), labels()], { parameters: { sequence_id: 0, priority: 1, timeout: 1000, triton_enable_empty_final_response: false } }))
    assert.equal(reply.status, 200)
  })

  test('Content-Encoding gzip and deflate (tritonclient request compression) are inflated first', async () => {
    const plain = binaryRequest(CE, [logits(), labels()], { parameters: { binary_data_output: true } })
    const expected = await app.inject(plain)
    for (const [encoding, compress] of [['gzip', gzipSync], ['deflate', deflateSync]] as const) {
      const res = await app.inject({ ...plain, payload: compress(plain.payload as Buffer), headers: { ...plain.headers, 'content-encoding': encoding } })
      assert.equal(res.statusCode, 200, encoding)
      assert.ok(res.rawPayload.equals(expected.rawPayload), encoding)
    }
    assert.equal(await v2Error(app, { ...plain, headers: { ...plain.headers, 'content-encoding': 'br' } }, 415),
      'Content-Encoding "br" is not supported; send gzip, deflate or none')
    assert.match(await v2Error(app, { ...plain, headers: { ...plain.headers, 'content-encoding': 'gzip' } }), /^the gzip body cannot be inflated: /)
  })

  test('a body over the app\'s bodyLimit is 413 { error }, before or after inflating', async () => {
    const small = await build(BACKENDS[0], { BODY_LIMIT: '1024' })
    try {
      const big = binaryRequest(CE, [{ name: 'logits', datatype: 'FP32', shape: [300], values: new Float32Array(300) }, { name: 'labels', datatype: 'FP32', shape: [300], values: new Float32Array(300) }])
      assert.match(await v2Error(small, big, 413), /body/i)
      const chunked = {
        ...big,
        payload: Readable.from([(big.payload as Buffer).subarray(0, 1000), (big.payload as Buffer).subarray(1000)]),
        headers: { ...big.headers, 'transfer-encoding': 'chunked' }
      }
      assert.match(await v2Error(small, chunked, 413), /body limit/)
      const bomb = { ...big, payload: gzipSync(big.payload as Buffer), headers: { ...big.headers, 'content-encoding': 'gzip' } }
      assert.ok((bomb.payload as Buffer).length < 1024)
      assert.equal(await v2Error(small, bomb, 413), 'the gzip body inflates to more than 1024 bytes, the body limit')
      assert.equal((await small.inject(binaryRequest(CE, [logits(), labels()]))).statusCode, 200)
    } finally {
      await small.close()
    }
  })
})

test('before the tfjs backend is up: readiness 503, inference 503 { error } with retry-after', async () => {
  const config = loadConfig({ LOG_LEVEL: 'silent' })
  const app = await buildApp(config, engineFor(config))
  try {
    const ready = await app.inject({ method: 'GET', url: '/v2/health/ready' })
    assert.equal(ready.statusCode, 503)
    assert.deepEqual(ready.json(), { ready: false })
    assert.equal((await app.inject({ method: 'GET', url: '/v2/models/focal/ready' })).statusCode, 503)
    const res = await app.inject(binaryRequest(CE, [logits(), labels()]))
    assert.equal(res.statusCode, 503)
    assert.equal(res.headers['retry-after'], '1')
    assert.deepEqual(res.json(), { error: 'the tfjs backend is still starting' })
  } finally {
    await app.close()
  }
})

for (const backend of BACKENDS) {
  describe(`V2 inference on ${backend}`, () => {
    let app: FastifyInstance
    suiteApp((built) => { app = built }, backend)

    test('the protocol\'s JSON example, adapted: id echoed, FP64 [1] outputs equal to POST /loss/ce', async () => {
      const res = await app.inject({
        method: 'POST',
        url: CE,
        headers: { 'content-type': 'application/json' },
        payload: {
          id: '42',
          inputs: [
            { name: 'logits', shape: [3, 4], datatype: 'FP32', data: jsonBody.logits },
            { name: 'labels', shape: [3], datatype: 'INT64', data: LABELS }
          ],
          outputs: [{ name: 'loss' }]
        }
      })
      assert.equal(res.statusCode, 200)
      assert.match(String(res.headers['content-type']), /^application\/json/)
      assert.equal(res.headers['inference-header-content-length'], undefined)
      const rest = (await post(app, '/loss/ce', jsonBody)).json
      assert.deepEqual(res.json(), {
        model_name: 'ce',
        model_version: '1',
        id: '42',
        parameters: { reduction: 'mean' },
        outputs: [{ name: 'loss', datatype: 'FP64', shape: [1], data: [rest.loss] }]
      })
    })

    test('binary in, binary out: framing byte for byte, values equal to the JSON API\'s', async () => {
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const res = await app.inject(binaryRequest(CE, [logits(), labels()], { id: 'r1', parameters: { binary_data_output: true, reduction } }))
        assert.equal(res.statusCode, 200)
        assert.equal(res.headers['content-type'], 'application/octet-stream')
        const length = Number(res.headers['inference-header-content-length'])
        const body = res.rawPayload
        const header = JSON.parse(body.subarray(0, length).toString('utf8'))
        const shape = reduction === 'none' ? [3] : [1]
        assert.deepEqual(header, {
          model_name: 'ce',
          model_version: '1',
          id: 'r1',
          parameters: { reduction },
          outputs: [
            { name: 'loss', datatype: 'FP64', shape, parameters: { binary_data_size: 8 * (shape[0] ?? 0) } },
            { name: 'sum', datatype: 'FP64', shape: [1], parameters: { binary_data_size: 8 } },
            { name: 'normalizer', datatype: 'FP64', shape: [1], parameters: { binary_data_size: 8 } }
          ]
        })
        const rest = (await post(app, '/loss/ce', { ...jsonBody, reduction })).json
        const want = Buffer.from(Float64Array.from([...flatten(rest.loss), rest.sum, rest.normalizer]).buffer)
        assert.equal(body.length, length + want.length)
        assert.ok(body.subarray(length).equals(want), `${reduction}: output bytes are the JSON API's doubles`)
      }
    })

    test('binary_data per output overrides binary_data_output; outputs come in the order asked', async () => {
      const reply = await infer(app, binaryRequest(CE, [logits(), labels()], {
        parameters: { binary_data_output: true },
        outputs: [{ name: 'normalizer', parameters: { binary_data: false } }, { name: 'loss' }]
      }))
      assert.deepEqual([...reply.outputs.keys()], ['normalizer', 'loss'])
      assert.equal(reply.outputs.get('normalizer')?.binary, false)
      assert.equal(reply.outputs.get('loss')?.binary, true)
      const json = await infer(app, jsonRequest(CE, [logits(), labels()], { outputs: [{ name: 'sum', parameters: { binary_data: true } }] }))
      assert.equal(json.outputs.get('sum')?.binary, true)
      const rest = (await post(app, '/loss/ce', jsonBody)).json
      assert.deepEqual([reply.outputs.get('normalizer')?.values[0], reply.outputs.get('loss')?.values[0], json.outputs.get('sum')?.values[0]], [rest.normalizer, rest.loss, rest.sum])
    })

    test('tensors at every byte offset decode to the same values (unaligned views are copied)', async () => {
      const rest = (await post(app, '/loss/ce', jsonBody)).json
      for (let pad = 0; pad < 8; pad++) {
        for (const [l, y] of [['FP32', 'INT64'], ['FP64', 'INT32'], ['FP32', 'INT32'], ['FP64', 'INT64']]) {
          const reply = await infer(app, binaryRequest(CE, [logits(l), labels(y)], { pad, parameters: { binary_data_output: true } }))
          assert.deepEqual(asLossReply(reply), { loss: rest.loss, sum: rest.sum, normalizer: rest.normalizer }, `pad ${pad}, ${l}/${y}`)
        }
      }
    })

    test('a mean over nothing: NaN in binary, null in JSON, normalizer 0 (the JSON API\'s null)', async () => {
      const rest = (await post(app, '/loss/ce', { ...jsonBody, labels: [-100, -100, -100] })).json
      assert.equal(rest.loss, null)
      const ignored = labels('INT64', [-100, -100, -100])
      const binary = await infer(app, binaryRequest(CE, [logits(), ignored], { parameters: { binary_data_output: true } }))
      assert.ok(Number.isNaN(binary.outputs.get('loss')?.values[0]))
      const json = await infer(app, jsonRequest(CE, [logits(), ignored]))
      assert.deepEqual(json.outputs.get('loss')?.values, [null])
      assert.deepEqual(asLossReply(json), { loss: null, sum: 0, normalizer: 0 })
      assert.deepEqual(asLossReply(binary), asLossReply(json))
    })

    test('focal: alpha -1 is torchvision\'s "no balancing" (the JSON API\'s null); per-class alpha as an input', async () => {
      const none = (await post(app, '/loss/focal', { ...jsonBody, alpha: null, gamma: 1.5 })).json
      const v2None = await infer(app, jsonRequest(FOCAL, [logits(), labels()], { parameters: { alpha: -1, gamma: 1.5 } }))
      assert.deepEqual(asLossReply(v2None), { loss: none.loss, sum: none.sum, normalizer: none.normalizer })
      const alpha = [0.1, 0.2, 0.3, 0.4]
      const vector = (await post(app, '/loss/focal', { ...jsonBody, alpha, activation: 'sigmoid', reduction: 'none' })).json
      const v2Vector = await infer(app, binaryRequest(FOCAL, [logits(), labels(), { name: 'alpha', datatype: 'FP32', shape: [4], values: alpha }], { parameters: { activation: 'sigmoid', reduction: 'none' } }))
      assert.deepEqual(v2Vector.outputs.get('loss')?.shape, [3, 4])
      assert.deepEqual(asLossReply(v2Vector), { loss: flatten(vector.loss), sum: vector.sum, normalizer: vector.normalizer })
    })

    test('loss values that overflow float32 are 422 { error }', async () => {
      const huge = { name: 'weight', datatype: 'FP32', shape: [4], values: [3e38, 3e38, 3e38, 3e38] }
      const wrong = labels('INT64', [1, 0, 0])
      const message = await v2Error(app, jsonRequest(CE, [logits('FP32', LOGITS.map((x) => x * 1e37)), wrong, huge]), 422)
      assert.match(message, /overflows float32/)
    })
  })
}

test('over a real socket: a 1.6 MB binary request without Content-Type, a binary reply', async () => {
  const app = await build()
  try {
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    const n = 1024
    const c = 400
    const values = Float32Array.from({ length: n * c }, (_, i) => Math.sin(i) * 4)
    const y = Int32Array.from({ length: n }, (_, i) => (i * 37) % c)
    const request = binaryRequest(CE, [
      { name: 'logits', datatype: 'FP32', shape: [n, c], values },
      { name: 'labels', datatype: 'INT32', shape: [n], values: y }
    ], { parameters: { binary_data_output: true }, pad: 3 })
    const res = await fetch(base + CE, { method: 'POST', body: new Uint8Array(request.payload as Buffer), headers: request.headers as Record<string, string> })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'application/octet-stream')
    const reply = readReply(res.status, { 'inference-header-content-length': res.headers.get('inference-header-content-length') ?? undefined }, Buffer.from(await res.arrayBuffer()))
    const rows = Array.from({ length: n }, (_, i) => Array.from(values.subarray(i * c, (i + 1) * c)))
    const rest = (await post(app, '/loss/ce', { logits: rows, labels: Array.from(y) })).json
    assert.deepEqual(asLossReply(reply), { loss: rest.loss, sum: rest.sum, normalizer: rest.normalizer })
  } finally {
    await app.close()
  }
})

test('readReply reads what the server frames (self-check of the test client)', () => {
  const header = Buffer.from(JSON.stringify({ outputs: [{ name: 'a', datatype: 'FP64', shape: [2], parameters: { binary_data_size: 16 } }, { name: 'b', datatype: 'FP64', shape: [1], data: [3] }] }))
  const reply = readReply(200, { 'inference-header-content-length': String(header.length) }, Buffer.concat([header, bytesOf('FP64', [1.5, -2])]))
  assert.deepEqual(reply.outputs.get('a')?.values, [1.5, -2])
  assert.deepEqual(reply.outputs.get('b')?.values, [3])
})
