/**
 * The metrics options' bad input (issue 11, "Bad input") over JSON and V2: a 400 whose message names
 * the field and the index, after which the next request answers the same metrics as before and no
 * tensor is left behind; and the OpenAPI document shows the fields.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { BACKENDS, build } from '../helper.js'
import { jsonRequest, type Tensor } from './v2/client.js'

const good = { logits: [[2, -1, 0.5], [0.1, 0.2, 3], [1, 1, 0]], labels: [0, 2, 1], metrics: true }

const jsonCases: Array<[string, Record<string, unknown>, string]> = [
  ['topk entry above C', { topk: [1, 4] }, 'topk[1] = 4 is outside [1, 3]'],
  ['topk entry 0', { topk: [0] }, 'topk[0] = 0 must be >= 1'],
  ['topk repeated', { topk: [2, 1, 2] }, 'topk[2] = 2 is repeated'],
  ['topk empty', { topk: [] }, 'topk must not be empty'],
  ['topk fractional', { topk: [1.5] }, 'topk[0] = 1.5 must be a finite integer'],
  ['calibrationBins 0', { calibrationBins: 0 }, 'calibrationBins = 0 must be >= 1'],
  ['calibrationBins above 10000', { calibrationBins: 10001 }, 'calibrationBins = 10001 must be <= 10000'],
  ['shots.counts too short', { shots: { counts: [5, 50] } }, 'shots.counts has 2 values, expected 3 (one per class)'],
  ['shots.counts negative', { shots: { counts: [5, -50, 500] } }, 'shots.counts[1] = -50 must be >= 0'],
  ['many <= few', { shots: { counts: [5, 50, 500], many: 10, few: 10 } }, 'shots.many = 10 must be > shots.few = 10'],
  ['unknown confusion form', { confusion: 'full' }, 'confusion = "full" must be one of "dense", "sparse"'],
  ['an option without metrics', { metrics: false, topk: [1] }, 'topk needs metrics: true'],
  ['topk with sigmoid', { activation: 'sigmoid', labels: [[1, 0, 0], [0, 0, 1], [0, 1, 0]], topk: [1] }, 'topk applies to activation "softmax" only'],
  ['classBalance counts of the wrong length', { classBalance: { counts: [5, 50], beta: 0.9 } }, 'classBalance.counts has 2 values, expected 3 (one per class)']
]

const logits: Tensor = { name: 'logits', datatype: 'FP32', shape: [3, 3], values: good.logits.flat() }
const labels: Tensor = { name: 'labels', datatype: 'INT64', shape: [3], values: good.labels }
const counts = (values: number[]): Tensor => ({ name: 'shot_counts', datatype: 'INT64', shape: [values.length], values })
const v2 = (parameters: Record<string, string | number | boolean>, extra: Tensor[] = [], outputs?: Array<{ name: string }>): InjectOptions =>
  jsonRequest('/v2/models/compare/infer', [logits, labels, ...extra], { parameters: { metrics: true, ...parameters }, ...(outputs === undefined ? {} : { outputs }) })

const v2Cases: Array<[string, InjectOptions, string]> = [
  ['topk not a list', v2({ topk: '1;5' }), 'parameters.topk = "1;5" must be an integer or a comma-separated list of integers such as "1,5"'],
  ['topk entry above C', v2({ topk: '1,9' }), 'parameters.topk[1] = 9 is outside [1, 3]'],
  ['topk as JSON, repeated', v2({ topk: '[2, 2]' }), 'parameters.topk[1] = 2 is repeated'],
  ['topk 0 as a number', v2({ topk: 0 }), 'parameters.topk[0] = 0 is outside [1, 3]'],
  ['calibration_bins 0', v2({ calibration_bins: 0 }), 'parameters.calibration_bins = 0 is outside [1, 10000]'],
  ['calibration_bins fractional', v2({ calibration_bins: 2.5 }), 'parameters.calibration_bins = 2.5 must be an integer'],
  ['shot_counts too short', v2({}, [counts([5, 50])]), 'shot_counts has 2 values, expected 3 (one per class)'],
  ['shot_counts negative', v2({}, [counts([5, -50, 500])]), 'shot_counts[1] = -50 must be >= 0'],
  ['many <= few', v2({ shots_many: 10, shots_few: 20 }, [counts([5, 50, 500])]), 'parameters.shots_many = 10 must be > parameters.shots_few = 20'],
  ['shots_many without shot_counts', v2({ shots_many: 10 }), 'parameters.shots_many and shots_few need the input shot_counts'],
  ['unknown confusion form', v2({ confusion: 'full' }), 'parameters.confusion = "full" must be one of "dense", "sparse"'],
  ['an option without metrics', v2({ metrics: false, topk: '1' }), 'parameters.topk needs parameters.metrics = true'],
  ['metrics not a boolean', v2({ metrics: 'yes' }), 'parameters.metrics = "yes" must be true or false'],
  ['an output the request did not ask for', v2({}, [], [{ name: 'metrics_confusion' }]), 'outputs[0] (metrics_confusion) needs parameters.metrics = true and parameters.confusion, softmax'],
  ['a sigmoid output of a softmax batch', v2({}, [], [{ name: 'metrics_map' }]), 'outputs[0] (metrics_map) needs parameters.metrics = true with activation "sigmoid" and logits [N, C]']
]

for (const backend of BACKENDS) {
  describe(`metrics bad input on ${backend}`, () => {
    let app: FastifyInstance
    let tensorsBefore = 0
    let baseline: unknown
    let v2Baseline: unknown
    const full = { ...good, topk: [1, 2], confusion: 'sparse', shots: { counts: [5, 50, 500], many: 60, few: 10 }, breakdown: true }
    const v2Full = v2({ topk: '1,2', confusion: 'sparse', shots_many: 60, shots_few: 10, breakdown: true }, [counts([5, 50, 500])])

    before(async () => {
      app = await build(backend)
      baseline = (await app.inject({ method: 'POST', url: '/loss/compare', payload: full })).json()
      v2Baseline = (await app.inject(v2Full)).json()
      tensorsBefore = tf.memory().numTensors
    })
    after(async () => { await app.close() })

    for (const [name, change, message] of jsonCases) {
      test(`JSON: ${name}`, async () => {
        const res = await app.inject({ method: 'POST', url: '/loss/compare', payload: { ...good, ...change } })
        assert.equal(res.statusCode, 400, res.body)
        assert.equal(res.json().message, message)
        const next = await app.inject({ method: 'POST', url: '/loss/compare', payload: full })
        assert.equal(next.statusCode, 200)
        assert.deepEqual(next.json(), baseline)
        assert.equal(tf.memory().numTensors, tensorsBefore)
      })
    }

    for (const [name, request, message] of v2Cases) {
      test(`V2: ${name}`, async () => {
        const res = await app.inject(request)
        assert.equal(res.statusCode, 400, res.body)
        assert.deepEqual(res.json(), { error: message })
        const next = await app.inject(v2Full)
        assert.equal(next.statusCode, 200)
        assert.deepEqual(next.json(), v2Baseline)
        assert.equal(tf.memory().numTensors, tensorsBefore)
      })
    }

    test('the baselines hold what was asked for', () => {
      const metrics = (baseline as { metrics: Record<string, unknown> }).metrics
      assert.deepEqual(Object.keys(metrics), ['kind', 'rows', 'accuracy', 'topk', 'meanClassAccuracy', 'ece', 'mce', 'rmsce', 'reliability', 'brier', 'confusion', 'shots'])
      assert.deepEqual(metrics.shots, {
        many: { classes: 1, rows: 1, accuracy: 1, ce: (baseline as any).perClass[2].ce.sum, focal: (baseline as any).perClass[2].focal.sum },
        medium: { classes: 1, rows: 1, accuracy: 0, ce: (baseline as any).perClass[1].ce.sum, focal: (baseline as any).perClass[1].focal.sum },
        few: { classes: 1, rows: 1, accuracy: 1, ce: (baseline as any).perClass[0].ce.sum, focal: (baseline as any).perClass[0].focal.sum }
      })
      const names = (v2Baseline as { outputs: Array<{ name: string }> }).outputs.map((o) => o.name).filter((n) => n.startsWith('metrics_'))
      assert.deepEqual(names, ['metrics_rows', 'metrics_accuracy', 'metrics_topk_k', 'metrics_topk', 'metrics_mean_class_accuracy', 'metrics_ece', 'metrics_mce',
        'metrics_rmsce', 'metrics_reliability', 'metrics_brier', 'metrics_confusion', 'metrics_shots', 'metrics_per_class_recall', 'metrics_per_class_precision', 'metrics_per_class_f1'])
    })
  })
}

test('classBalance.counts give the shot groups when shots is absent; shots wins when both are given', async () => {
  const app = await build()
  try {
    const balance = { classBalance: { counts: [5, 50, 500], beta: 0.9 } }
    const viaBalance = (await app.inject({ method: 'POST', url: '/loss/ce', payload: { ...good, ...balance } })).json()
    const viaShots = (await app.inject({ method: 'POST', url: '/loss/ce', payload: { ...good, ...balance, shots: { counts: [500, 50, 5] } } })).json()
    assert.deepEqual(Object.keys(viaBalance.metrics.shots.few), ['classes', 'rows', 'accuracy', 'ce'])
    assert.equal(viaBalance.metrics.shots.few.accuracy, 1, 'class 0 (5 samples) is few-shot and right')
    assert.equal(viaShots.metrics.shots.few.accuracy, 1, 'class 2 (5 samples) is few-shot and right')
    assert.equal(viaShots.metrics.shots.medium.accuracy, 0, 'class 1 is medium and wrong')
  } finally {
    await app.close()
  }
})

test('OpenAPI shows the metrics fields of the loss routes', async () => {
  const app = await build()
  try {
    const doc = (await app.inject('/docs/json')).json()
    for (const path of ['/loss/ce', '/loss/focal', '/loss/compare', '/loss/poly', '/loss/logit-adjusted', '/loss/ldam', '/loss/asymmetric', '/loss/seesaw']) {
      const post = doc.paths[path].post
      const body = post.requestBody.content['application/json'].schema.properties
      for (const field of ['metrics', 'topk', 'calibrationBins', 'confusion', 'shots']) assert.ok(field in body, `${path} body: ${field}`)
      // /loss/compare answers one of two shapes: without and with a losses list.
      const schema = post.responses['200'].content['application/json'].schema
      for (const reply of schema.anyOf ?? [schema]) {
        for (const field of ['accuracy', 'topk', 'meanClassAccuracy', 'ece', 'mce', 'rmsce', 'reliability', 'brier', 'confusion', 'shots', 'mAP', 'auroc', 'microF1']) {
          assert.ok(field in reply.properties.metrics.properties, `${path} reply metrics: ${field}`)
        }
      }
    }
  } finally {
    await app.close()
  }
})

test('requests the batcher merges into one kernel call answer the metrics each answers alone', async () => {
  const app = await build(undefined, { BATCH_WAIT_US: '20000' })
  try {
    const bodies = [
      { ...good, topk: [1, 2], breakdown: true },
      { logits: [[0, 1, 2], [2, 1, 0]], labels: [2, 1], metrics: true, confusion: 'dense' },
      { logits: [[5, 0, 0], [0, 5, 0], [0, 0, 5], [1, 2, 3]], labels: [0, 1, 2, 0], metrics: true, calibrationBins: 3 }
    ]
    const alone = []
    for (const payload of bodies) alone.push((await app.inject({ method: 'POST', url: '/loss/compare', payload })).json())
    const before = { ...app.engine.batchStats }
    const together = await Promise.all(bodies.map(async (payload) => (await app.inject({ method: 'POST', url: '/loss/compare', payload })).json()))
    const { calls, plans } = app.engine.batchStats
    assert.equal(plans - before.plans, 3)
    assert.ok(calls - before.calls < 3, `the batcher merged nothing: ${calls - before.calls} calls`)
    assert.deepEqual(together, alone)
  } finally {
    await app.close()
  }
})
