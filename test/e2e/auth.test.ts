/**
 * API_TOKEN: the compute routes need `Authorization: Bearer <token>`; everything else stays open,
 * and the token never reaches the logs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper.js'
import { buildLogged } from './util.js'

const TOKEN = 's3cr3t-t0ken.with~allowed+chars/='
const body = { logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [0, 2] }
const v2Body = {
  inputs: [
    { name: 'logits', shape: [2, 3], datatype: 'FP32', data: [2, -1, 0.5, 0.1, 0.2, 3] },
    { name: 'labels', shape: [2], datatype: 'INT64', data: [0, 2] }
  ]
}

const post = async (app: FastifyInstance, url: string, payload: object, authorization?: string) =>
  await app.inject({ method: 'POST', url, payload, headers: authorization === undefined ? {} : { authorization } })

test('without API_TOKEN the compute routes are open', async () => {
  const app = await build()
  assert.equal((await post(app, '/loss/ce', body)).statusCode, 200)
  assert.equal((await post(app, '/loss/ce', body, 'Bearer anything')).statusCode, 200)
  await app.close()
})

test('with API_TOKEN: no header, a wrong token or another scheme is 401; the right token passes', async () => {
  const app = await build(undefined, { API_TOKEN: TOKEN })
  const tensors = tf.memory().numTensors

  const missing = await post(app, '/loss/ce', body)
  assert.equal(missing.statusCode, 401)
  assert.equal(missing.headers['www-authenticate'], 'Bearer realm="loss-service"')
  assert.deepEqual(missing.json(), { statusCode: 401, error: 'Unauthorized', message: 'this route needs an Authorization: Bearer <token> header' })

  for (const authorization of [
    'Bearer wrong', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN, 'Bearer', `Bearer ${TOKEN} extra`, ''
  ]) {
    const res = await post(app, '/loss/focal', body, authorization)
    assert.equal(res.statusCode, 401, authorization)
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="loss-service", error="invalid_token"', authorization)
    assert.equal(res.json().message, 'the Authorization header does not carry a valid bearer token')
  }

  for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER  ${TOKEN} `]) {
    const res = await post(app, '/loss/ce', body, authorization)
    assert.equal(res.statusCode, 200, authorization)
    assert.equal(res.json().normalizer, 2)
  }
  // Checked before the body: a bad body without a token is still 401.
  assert.equal((await post(app, '/loss/ce', { logits: 'nonsense' })).statusCode, 401)
  assert.equal((await post(app, '/loss/ce', { logits: 'nonsense' }, `Bearer ${TOKEN}`)).statusCode, 400)
  assert.equal(tf.memory().numTensors, tensors)
  await app.close()
})

test('with API_TOKEN the V2 infer routes need it too and answer in the V2 error format', async () => {
  const app = await build(undefined, { API_TOKEN: TOKEN })
  for (const url of ['/v2/models/ce/infer', '/v2/models/focal/versions/1/infer']) {
    const denied = await post(app, url, v2Body)
    assert.equal(denied.statusCode, 401, url)
    assert.deepEqual(denied.json(), { error: 'this route needs an Authorization: Bearer <token> header' })
    assert.equal(denied.headers['www-authenticate'], 'Bearer realm="loss-service"')
    const allowed = await post(app, url, v2Body, `Bearer ${TOKEN}`)
    assert.equal(allowed.statusCode, 200, `${url}: ${allowed.body}`)
  }
  await app.close()
})

test('with API_TOKEN probes, metadata, metrics and docs stay open', async () => {
  const app = await build(undefined, { API_TOKEN: TOKEN })
  for (const url of ['/health/live', '/health/ready', '/info', '/metrics', '/docs/json', '/docs', '/v2/health/ready', '/v2/models/ce']) {
    assert.equal((await app.inject(url)).statusCode, 200, url)
  }
  await app.close()
})

test('the token never reaches the logs, even at trace level', async () => {
  const { app, text, lines } = await buildLogged({ API_TOKEN: TOKEN })
  assert.equal((await post(app, '/loss/ce', body, `Bearer ${TOKEN}`)).statusCode, 200)
  assert.equal((await post(app, '/loss/ce', body, `Bearer ${TOKEN}wrong`)).statusCode, 401)
  assert.equal((await post(app, '/loss/ce', { logits: [[1, 'x']], labels: [0] }, `Bearer ${TOKEN}`)).statusCode, 400)
  // Request headers, if anything logs them, are redacted by the logger's configuration.
  app.log.info({ headers: { authorization: `Bearer ${TOKEN}`, 'x-request-id': 'r1' } }, 'headers')
  const logged = lines()
  assert.ok(logged.filter((l) => l.msg === 'request completed').length >= 3)
  assert.ok(logged.some((l) => l.msg === 'request rejected' && l.statusCode === 401))
  const headers = logged.find((l) => l.msg === 'headers')
  assert.deepEqual(headers?.headers, { authorization: '[redacted]', 'x-request-id': 'r1' })
  assert.equal(text().includes(TOKEN), false)
  assert.equal(text().includes('s3cr3t'), false)
  await app.close()
})
