/**
 * nst/JSONTestSuite's parsing corpus (318 documents: y_ valid, n_ invalid, i_ left to the
 * implementation) as the body of every POST route: each gets a 4xx with a message, never a 5xx or
 * a hang, and a known-good request right after gets exactly its usual answer. A valid document is
 * a 400 too: a scalar or an array is not a request, and no object in the corpus is one.
 *
 * The routes come from the app itself (its POST routes, as Fastify prints them; the V2 models as
 * its 404 names them), so routes added later are covered without touching this file. The parser
 * does not depend on the tfjs backend: one backend is enough.
 *
 * The corpus is read from JSON_TEST_SUITE, by default ../shared/json-test-suite/test_parsing
 * beside the repository.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper.js'

const CORPUS = process.env.JSON_TEST_SUITE ?? resolve(import.meta.dirname, '../../../shared/json-test-suite/test_parsing')

const GOOD = { logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [0, 2] }
const V2_GOOD = { inputs: [{ name: 'logits', shape: [2, 3], datatype: 'FP32', data: [2, -1, 0.5, 0.1, 0.2, 3] }, { name: 'labels', shape: [2], datatype: 'INT64', data: [0, 2] }] }

/** Full paths of the POST routes in Fastify's route tree (a node's path continues its parent's). */
function postPaths (app: FastifyInstance): string[] {
  const parents: string[] = []
  const out: string[] = []
  for (const line of app.printRoutes({ method: 'POST', commonPrefix: false }).split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (.*?)(?: \(([^)]*)\))?$/.exec(line)
    if (match === null) continue
    const level = (match[1] ?? '').length / 4
    const path = (parents[level - 1] ?? '') + (match[2] ?? '')
    parents[level] = path
    parents.length = level + 1
    if ((match[3] ?? '').split(', ').includes('POST')) out.push(path)
  }
  return out
}

/** The V2 models, as the app lists them when asked for one that does not exist. */
async function models (app: FastifyInstance): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: '/v2/models/-' })
  const listed = /the models are (.*)$/.exec(res.json().error as string)?.[1]
  assert.ok(listed !== undefined, res.body)
  return listed.split(', ')
}

/** Every POST URL: V2 model routes once per model (version 1), others with their parameters as "corpus". */
async function urls (app: FastifyInstance): Promise<string[]> {
  const names = await models(app)
  return postPaths(app).flatMap((path) => {
    const filled = path.replace(':version', '1')
    return filled.includes(':model') ? names.map((m) => filled.replace(':model', m)) : [filled.replace(/:\w+/g, 'corpus')]
  })
}

let app: FastifyInstance
let documents: Array<{ name: string, bytes: Buffer }>
before(async () => {
  assert.ok(existsSync(CORPUS), `JSONTestSuite's test_parsing not found at ${CORPUS}; set JSON_TEST_SUITE to its directory`)
  documents = readdirSync(CORPUS).filter((f) => f.endsWith('.json')).sort().map((name) => ({ name, bytes: readFileSync(join(CORPUS, name)) }))
  app = await build()
})
after(async () => { await app.close() })

test('the corpus is complete and the routes include the JSON API and V2', async () => {
  assert.equal(documents.length, 318)
  const all = await urls(app)
  const expected = [
    '/loss/ce', '/loss/focal', '/loss/compare', '/loss/poly', '/loss/logit-adjusted', '/loss/ldam', '/loss/asymmetric', '/loss/seesaw',
    '/v2/models/ce/infer', '/v2/models/compare/versions/1/infer', '/v2/models/poly/infer', '/v2/models/logit_adjusted/infer', '/v2/models/ldam/infer',
    '/v2/models/asymmetric/infer', '/v2/models/seesaw/versions/1/infer'
  ]
  for (const url of expected) assert.ok(all.includes(url), all.join(', '))
})

test('every corpus document at every POST route: a 4xx with a message, then the next request as usual', { timeout: 180_000 }, async (t) => {
  const all = await urls(app)
  t.diagnostic(`${documents.length} documents x ${all.length} routes: ${all.join(', ')}`)
  const good = (await app.inject({ method: 'POST', url: '/loss/ce', payload: GOOD })).json()
  assert.equal(typeof good.loss, 'number')
  const v2Good = (await app.inject({ method: 'POST', url: '/v2/models/ce/infer', payload: V2_GOOD })).json()
  const tensors = tf.memory().numTensors
  const statuses = new Map<number, number>()
  for (const url of all) {
    const v2 = url.startsWith('/v2/')
    for (const { name, bytes } of documents) {
      const res = await app.inject({ method: 'POST', url, payload: bytes, headers: { 'content-type': 'application/json' } })
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url} ${name}: ${res.statusCode} ${res.body}`)
      const json = res.json()
      const message: unknown = v2 ? json.error : json.message
      assert.ok(typeof message === 'string' && message.length > 0, `${url} ${name}: ${res.body}`)
      const next = v2
        ? await app.inject({ method: 'POST', url: '/v2/models/ce/infer', payload: V2_GOOD })
        : await app.inject({ method: 'POST', url: '/loss/ce', payload: GOOD })
      assert.deepEqual(next.json(), v2 ? v2Good : good, `after ${url} ${name}`)
    }
    assert.equal(tf.memory().numTensors, tensors, `no tensor left after ${url}`)
  }
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
})
