/**
 * The OpenAPI document is valid OpenAPI 3.1, lists every route the app serves with request,
 * response and error schemas and examples, and Swagger UI is served from the service itself.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import SwaggerParser from '@apidevtools/swagger-parser'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper.js'

type Json = Record<string, any>

/** Every METHOD path the app routes, read from `printRoutes`, with `:param` written `{param}`. */
function servedRoutes (app: FastifyInstance): string[] {
  const stack: string[] = []
  const out: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)$/.exec(line)
    if (m === null) continue
    const depth = (m[1] ?? '').length / 4
    stack.length = depth
    stack.push(m[2] ?? '')
    const path = stack.join('').replace(/:(\w+)/g, '{$1}')
    for (const method of (m[3] ?? '').split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`)
  }
  return out
}

const documentOf = async (app: FastifyInstance): Promise<Json> => {
  const res = await app.inject('/docs/json')
  assert.equal(res.statusCode, 200)
  return res.json()
}

const operations = (doc: Json): Array<[string, Json]> =>
  Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json).map(([method, op]): [string, Json] => [`${method.toUpperCase()} ${path}`, op as Json]))

test('the document is valid OpenAPI 3.1 and lists every route but the UI\'s own', async () => {
  const app = await build()
  const doc = await documentOf(app)
  assert.equal(doc.openapi, '3.1.0')
  await SwaggerParser.validate(structuredClone(doc) as any)
  const served = servedRoutes(app).filter((r) => !r.includes(' /docs')).sort()
  assert.ok(served.includes('POST /loss/ce') && served.includes('GET /metrics'), served.join(', '))
  assert.deepEqual(operations(doc).map(([name]) => name).sort(), served)
  await app.close()
})

test('every operation has a summary, a tag, and response and error schemas with examples', async () => {
  const app = await build()
  const doc = await documentOf(app)
  for (const [name, op] of operations(doc)) {
    assert.ok(typeof op.summary === 'string' && op.summary.length > 0, `${name}: summary`)
    assert.ok(Array.isArray(op.tags) && op.tags.length > 0, `${name}: tags`)
    const codes = Object.keys(op.responses as Json)
    assert.ok(codes.some((c) => c.startsWith('2')), `${name}: a 2xx response`)
    assert.ok(codes.includes('500'), `${name}: a 500 response`)
    for (const [code, response] of Object.entries(op.responses as Json)) {
      // 204 has no body by definition (DELETE /runs/{id}).
      if (code === '204') continue
      const media = Object.values(response.content as Json)[0] as Json | undefined
      assert.ok(media?.schema !== undefined, `${name} ${code}: schema`)
      assert.ok(media.example !== undefined, `${name} ${code}: example`)
      if (code === '503') assert.ok(response.headers['retry-after'] !== undefined, `${name} 503: Retry-After`)
    }
    // Closing a run is the one POST without a body.
    if (name.startsWith('POST') && !name.endsWith('/close')) {
      const body = op.requestBody.content['application/json']
      assert.ok(body?.schema !== undefined && body.example !== undefined, `${name}: request body schema and example`)
      assert.ok(codes.includes('400'), `${name}: a 400 response`)
    }
  }
  const ce = doc.paths['/loss/ce'].post
  assert.deepEqual(ce.requestBody.content['application/json'].example, { logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [0, 2] })
  assert.equal(ce.responses['503'].content['application/json'].example.statusCode, 503)
  assert.equal(ce.responses['400'].content['application/json'].example.error, 'Bad Request')
  assert.equal(ce.security, undefined)
  // The decoder-checked arrays keep their full schema, marked with the extension keyword.
  assert.equal(ce.requestBody.content['application/json'].schema.properties.logits['x-decoded'], true)
  assert.deepEqual(Object.keys(doc.paths['/metrics'].get.responses['200'].content), ['text/plain'])
  await app.close()
})

test('the example request bodies are accepted by the routes they document', async () => {
  const app = await build()
  const doc = await documentOf(app)
  for (const path of ['/loss/ce', '/loss/focal']) {
    const example = doc.paths[path].post.requestBody.content['application/json'].example
    const res = await app.inject({ method: 'POST', url: path, payload: example })
    assert.equal(res.statusCode, 200, `${path}: ${res.body}`)
  }
  await app.close()
})

test('with API_TOKEN the compute routes and the runs are documented as needing the bearer token', async () => {
  const app = await build(undefined, { API_TOKEN: 'documented-token' })
  const doc = await documentOf(app)
  await SwaggerParser.validate(structuredClone(doc) as any)
  assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', description: 'the API_TOKEN the server was started with' })
  for (const [name, op] of operations(doc)) {
    const compute = name.startsWith('POST') || / \/runs\b/.test(name)
    assert.deepEqual(op.security, compute ? [{ bearerAuth: [] }] : undefined, name)
    assert.equal(op.responses['401'] !== undefined, compute, `${name}: 401`)
    if (compute) assert.ok(op.responses['401'].headers['www-authenticate'] !== undefined)
  }
  assert.doesNotMatch(JSON.stringify(doc), /documented-token/)
  await app.close()
})

test('Swagger UI is served from the service, with no outside assets', async () => {
  const app = await build()
  const page = await app.inject('/docs')
  assert.equal(page.statusCode, 200)
  assert.match(String(page.headers['content-type']), /^text\/html/)
  assert.match(page.body, /<div id="swagger-ui">/)
  const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '')
  assert.ok(assets.some((a) => a.endsWith('swagger-ui-bundle.js')), assets.join(', '))
  for (const asset of assets) {
    assert.match(asset, /^\/docs\/static\//, `${asset} is fetched from elsewhere`)
    assert.equal((await app.inject(asset)).statusCode, 200, asset)
  }
  const initializer = await app.inject('/docs/static/swagger-initializer.js')
  // The UI loads the document relative to /docs/, i.e. from /docs/json.
  assert.ok(initializer.body.includes("url: resolveUrl('./json')"))
  await app.close()
})
