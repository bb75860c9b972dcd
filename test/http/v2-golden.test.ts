/**
 * Every golden case (test/golden/cases.json and temporal.json) through V2, as JSON tensors and as
 * binary tensors, gives exactly the loss, sum and normalizer POST /loss/<endpoint> gives for the
 * JSON body, on every installed tfjs backend. Exactly: both surfaces run the same plan, and V2's
 * FP64 outputs carry the same doubles the JSON API prints.
 *
 * The cases rotate through the datatypes (FP32/FP64 logits and targets, INT32/INT64 indices), flat
 * and nested JSON data, and header lengths that put the binary tensors at every byte offset mod 8.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { BACKENDS, post, suiteApp } from '../helper.js'
import { flatten, materialize } from '../golden/inputs.js'
import { asLossReply, binaryRequest, infer, jsonRequest } from './v2/client.js'
import { shapeOf, toV2 } from './v2/golden.js'

interface Case {
  name: string
  endpoint: 'ce' | 'focal'
  request: Record<string, unknown>
}

function load (file: string): Case[] {
  return (JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as { cases: Case[] }).cases
}

const CASES = [...load('../golden/cases.json'), ...load('../golden/temporal.json')]

for (const backend of BACKENDS) {
  describe(`golden cases through V2 equal POST /loss on ${backend}`, () => {
    let app: FastifyInstance
    suiteApp((built) => { app = built }, backend)

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
