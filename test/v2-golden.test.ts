/**
 * Every golden case (test/golden/cases.json and temporal.json) through V2, as JSON tensors and as
 * binary tensors, gives exactly the loss, sum and normalizer POST /loss/<endpoint> gives for the
 * JSON body, on every installed tfjs backend. Exactly: both surfaces run the same plan, and V2's
 * FP64 outputs carry the same doubles the JSON API prints.
 *
 * The cases rotate through the datatypes (FP32/FP64 logits and targets, INT32/INT64 indices), flat
 * and nested JSON data, and header lengths that put the binary tensors at every byte offset mod 8.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { BACKENDS, build, post } from './helper.js'
import { flatten, materialize } from './golden/inputs.js'
import { asLossReply, binaryRequest, infer, jsonRequest, type Tensor } from './v2/client.js'

interface Case {
  name: string
  endpoint: 'ce' | 'focal'
  request: Record<string, unknown>
}

function load (file: string): Case[] {
  return (JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as { cases: Case[] }).cases
}

const CASES = [...load('./golden/cases.json'), ...load('./golden/temporal.json')]

function shapeOf (value: unknown): number[] {
  const shape: number[] = []
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length)
  return shape
}

const OPTIONS: Record<string, string> = {
  activation: 'activation',
  reduction: 'reduction',
  ignoreIndex: 'ignore_index',
  labelSmoothing: 'label_smoothing',
  gamma: 'gamma'
}

/** The JSON API body of case number `i` as V2 tensors and parameters. */
function toV2 (body: Record<string, unknown>, i: number): { tensors: Tensor[], parameters: Record<string, string | number> } {
  const logitsShape = shapeOf(body.logits)
  const labelsShape = shapeOf(body.labels)
  const index = logitsShape.length > 1 && labelsShape.length === logitsShape.length - 1
  const tensors: Tensor[] = [
    { name: 'logits', datatype: i % 4 === 3 ? 'FP64' : 'FP32', shape: logitsShape, values: flatten(body.logits) },
    {
      name: 'labels',
      datatype: index ? (i % 2 === 0 ? 'INT64' : 'INT32') : (i % 3 === 2 ? 'FP64' : 'FP32'),
      shape: labelsShape,
      values: flatten(body.labels)
    }
  ]
  const parameters: Record<string, string | number> = {}
  for (const [key, value] of Object.entries(body)) {
    const option = OPTIONS[key]
    if (option !== undefined) {
      parameters[option] = value as string | number
    } else if (key === 'weight' || key === 'posWeight' || (key === 'alpha' && Array.isArray(value))) {
      const values = value as number[]
      tensors.push({ name: key === 'posWeight' ? 'pos_weight' : key, datatype: i % 5 === 4 ? 'FP64' : 'FP32', shape: [values.length], values })
    } else if (key === 'alpha') {
      parameters.alpha = value === null ? -1 : value as number
    } else if (key !== 'logits' && key !== 'labels') {
      throw new Error(`toV2: unexpected field ${key}`)
    }
  }
  return { tensors, parameters }
}

for (const backend of BACKENDS) {
  describe(`golden cases through V2 equal POST /loss on ${backend}`, () => {
    let app: FastifyInstance
    let tensorsBefore: number
    before(async () => {
      // The [1024, 400] JSON bodies block the event loop for long on a busy machine; overload
      // shedding is not what this file tests.
      app = await build(backend, { MAX_EVENT_LOOP_DELAY_MS: '0' })
      tensorsBefore = tf.memory().numTensors
    })
    after(async () => {
      assert.equal(tf.memory().numTensors, tensorsBefore)
      await app.close()
    })

    CASES.forEach((c, i) => {
      test(c.name, async () => {
        const body = materialize(c.request) as Record<string, unknown>
        const rest = await post(app, `/loss/${c.endpoint}`, body)
        assert.equal(rest.status, 200, JSON.stringify(rest.json))
        const want = { loss: Array.isArray(rest.json.loss) ? flatten(rest.json.loss) : rest.json.loss, sum: rest.json.sum, normalizer: rest.json.normalizer }
        const { tensors, parameters } = toV2(body, i)
        const url = `/v2/models/${c.endpoint}/infer`
        const binary = await infer(app, binaryRequest(url, tensors, { parameters: { ...parameters, binary_data_output: true }, pad: i % 8 }))
        assert.equal(binary.status, 200, JSON.stringify(binary.header))
        assert.deepEqual(asLossReply(binary), want, 'binary')
        const json = await infer(app, jsonRequest(url, tensors, { parameters, nested: i % 2 === 0 }))
        assert.equal(json.status, 200, JSON.stringify(json.header))
        assert.deepEqual(asLossReply(json), want, 'JSON tensors')
        const shape = json.outputs.get('loss')?.shape
        assert.deepEqual(shape, rest.json.reduction === 'none' ? shapeOf(rest.json.loss) : [1])
      })
    })
  })
}
