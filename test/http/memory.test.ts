import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import { BACKENDS, build } from '../helper.js'

const bodies: Array<[string, unknown]> = [
  ['/loss/focal', { logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [0, 2] }],
  ['/loss/ce', { logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [0, 7] }],
  ['/loss/ce', { logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [[0.2, 0.3, 0.5], [1, 0, 0]], labelSmoothing: 0.1, reduction: 'none' }],
  ['/loss/focal', { logits: [[2, -1, 0.5]], labels: [[1, 0, 1]], activation: 'sigmoid', alpha: [0.1, 0.2, 0.3] }],
  ['/loss/focal', { logits: [[2, -1, 0.5]], labels: [[1, 0, 1.5]], activation: 'sigmoid' }],
  ['/loss/ce', { logits: [[3e38, -3e38]], labels: [1] }],
  ['/loss/ce', '{"logits": [[1, 2]], "labels": [0], "gama": 1}'],
  ['/loss/ce', '{"logits": [[1, 2]'],
  ['/loss/focal', { logits: [[[1, 2], [3, 4]]], labels: [[0, -100]], gamma: 0.5 }]
]

for (const backend of BACKENDS) {
  test(`no tensor outlives a mix of good and bad requests (${backend})`, async () => {
    const app = await build(backend)
    const before = tf.memory().numTensors
    const statuses = new Set<number>()
    for (let round = 0; round < 20; round++) {
      const replies = await Promise.all(bodies.map(async ([url, body]) => await app.inject({
        method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: typeof body === 'string' ? body : JSON.stringify(body)
      })))
      for (const r of replies) statuses.add(r.statusCode)
    }
    assert.deepEqual([...statuses].sort(), [200, 400, 422])
    assert.equal(tf.memory().numTensors, before)
    await app.close()
  })
}
