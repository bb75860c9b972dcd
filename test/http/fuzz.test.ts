/**
 * Property-based tests (fast-check, fixed seeds) over every POST route the OpenAPI document lists:
 *
 * 1. Random bodies (arbitrary JSON, near-valid batches with one part broken, raw JSON text with
 *    1e400 and friends, truncated text) are answered 2xx or 4xx in the route's error format, never
 *    5xx, and leave no tensor behind.
 * 2. Random valid batches give what float64 references of the formulas, written out below, give:
 *    |got - ref| <= ATOL + RTOL * |ref| for every value, sum and normalizer (float32 kernels), on the
 *    JSON routes, /loss/compare and the V2 infer routes. Logits in [-15, 15]; weights and alphas 0 or
 *    at least 0.01.
 *
 * FUZZ_RUNS (default 150) sets the runs per route and backend; FUZZ_SEED the seed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { BACKENDS, build } from '../helper.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 150)
const SEED = Number(process.env.FUZZ_SEED ?? 20251130)
const ATOL = 2e-6
const RTOL = 5e-6

type Json = any

/** POST routes from the OpenAPI document, with path parameters filled in (and one unknown model). */
function postRoutes (app: FastifyInstance): string[] {
  const doc = app.swagger() as Json
  const fill: Record<string, string[]> = { model: ['ce', 'focal', 'nope'], version: ['1'] }
  const out: string[] = []
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    if (item.post === undefined) continue
    let urls = [path]
    for (const [name, values] of Object.entries(fill)) {
      if (path.includes(`{${name}}`)) urls = urls.flatMap((u) => values.map((v) => u.replace(`{${name}}`, v)))
    }
    out.push(...urls)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Random bodies

/** Number tokens JSON.stringify cannot write; `§token§` strings are replaced by the raw token. */
const RAW_NUMBERS = ['1e400', '-1e400', '1e-400', '3.5e38', '-3.5e38', '3.4028235e38', '-0', '1E+2', '123456789012345678901234567890', '0.1e-45']
const raw = fc.constantFrom(...RAW_NUMBERS).map((t) => `§${t}§`)
const toText = (body: unknown): string => JSON.stringify(body).replace(/"§([^§"]*)§"/g, '$1')

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.float({ min: -20, max: 20, noNaN: true }) },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(-100, 1e38, 3.4e38, 2 ** 31, -(2 ** 31) - 1, 5e-324, Number.MAX_SAFE_INTEGER, 0.5, 1) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 2, arbitrary: raw },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 4 }), fc.boolean(), fc.constant(null), fc.constant({}), fc.constant([])) }
)

const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('tree'), { maxLength: 5 }))
}))

const options = {
  activation: fc.oneof(fc.constantFrom('softmax', 'sigmoid', 'relu', ''), scalar),
  reduction: fc.oneof(fc.constantFrom('mean', 'sum', 'none', 'avg'), scalar),
  ignoreIndex: scalar,
  labelSmoothing: scalar,
  weight: tree,
  posWeight: tree,
  gamma: scalar,
  alpha: fc.oneof(scalar, tree),
  classBalance: fc.oneof(fc.record({ counts: tree, beta: scalar }, { requiredKeys: [] }), scalar),
  breakdown: scalar,
  hardest: scalar
}

const restBody = fc.tuple(
  fc.record({ logits: tree, labels: tree, ...options }, { requiredKeys: [] }),
  fc.dictionary(fc.string({ maxLength: 6 }), scalar, { maxKeys: 2 })
).map(([known, extra]) => ({ ...extra, ...known }))

const v2Parameters = fc.dictionary(
  fc.oneof(fc.constantFrom('activation', 'reduction', 'ignore_index', 'label_smoothing', 'gamma', 'alpha', 'binary_data_output', 'binary_data_size'), fc.string({ maxLength: 4 })),
  fc.oneof(scalar, fc.constantFrom('softmax', 'sigmoid', 'sum', 'none')),
  { maxKeys: 3 })

const v2Body = fc.record({
  id: fc.oneof(fc.string({ maxLength: 4 }), scalar),
  parameters: v2Parameters,
  inputs: fc.oneof(scalar, fc.array(fc.record({
    name: fc.oneof(fc.constantFrom('logits', 'labels', 'weight', 'pos_weight', 'alpha'), fc.string({ maxLength: 3 })),
    shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 4 }), tree),
    datatype: fc.oneof(fc.constantFrom('FP32', 'FP64', 'INT32', 'INT64', 'BOOL', 'BYTES', 'FP16', 'UINT8'), scalar),
    data: tree,
    parameters: v2Parameters
  }, { requiredKeys: ['name'] }), { maxLength: 4 })),
  outputs: fc.oneof(scalar, fc.array(fc.record({ name: fc.oneof(fc.constantFrom('loss', 'sum', 'normalizer'), fc.string({ maxLength: 3 })), parameters: v2Parameters }), { maxLength: 3 }))
}, { requiredKeys: [] })

/** Every path into a JSON value, for breaking one part of a valid body. */
function paths (value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const here = prefix.length === 0 ? [] : [prefix]
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => paths(v, [...prefix, i]))]
  if (typeof value === 'object' && value !== null) return [...here, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))]
  return here
}

function replaced (value: unknown, path: ReadonlyArray<string | number>, by: unknown): unknown {
  const [head, ...rest] = path
  if (head === undefined) return by
  if (Array.isArray(value)) return value.map((v, i) => i === head ? replaced(v, rest, by) : v)
  const obj = value as Record<string, unknown>
  if (rest.length === 0 && by === undefined) return Object.fromEntries(Object.entries(obj).filter(([k]) => k !== head))
  return { ...obj, [head]: replaced(obj[head], rest, by) }
}

interface Sent { text: string, contentType?: string }

/** Bodies for `url`: random ones of its kind, a valid one with one part broken, mangled text. */
function randomRequest (url: string): fc.Arbitrary<Sent> {
  const v2 = url.startsWith('/v2/')
  const valid = batchArb.map((b) => v2 ? v2Request(url.includes('/focal/') ? 'focal' : 'ce', b) : restRequest(url, b))
  const broken = valid.chain((body) => {
    const all = paths(body)
    return fc.tuple(fc.constantFrom(...all), fc.oneof(scalar, tree, fc.constant(undefined)))
      .map(([path, by]) => ({ text: toText(replaced(body, path, by)) }))
  })
  const mangled = fc.tuple(valid, fc.nat(), fc.constantFrom('', '1e400', ']', '{', '"', ',', '-', 'NaN', '"__proto__": {}', '"constructor": {"prototype": {}}'))
    .map(([body, at, insert]) => {
      const text = JSON.stringify(body)
      const i = at % (text.length + 1)
      return { text: insert === '' ? text.slice(0, i) : text.slice(0, i) + insert + text.slice(i) }
    })
  return fc.oneof(
    { weight: 3, arbitrary: broken },
    { weight: 2, arbitrary: (v2 ? v2Body : restBody).map((b) => ({ text: toText(b) })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((b) => ({ text: JSON.stringify(b) })) },
    { weight: 1, arbitrary: mangled },
    { weight: 1, arbitrary: fc.tuple(valid, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/octet-stream')).map(([b, contentType]) => ({ text: JSON.stringify(b), contentType })) }
  )
}

// ---------------------------------------------------------------------------------------------
// Valid batches and the float64 references

interface Batch {
  activation: 'softmax' | 'sigmoid'
  /** [N, C], [N] (sigmoid) or [N, C, T] (softmax). */
  shape: number[]
  /** Row-major logits, float32 values. */
  x: number[]
  /** Index labels (one per row or frame; ignoreIndex marks skipped ones), or targets of the logits' shape. */
  labels: { kind: 'index', y: number[] } | { kind: 'dense', t: number[] }
  reduction?: 'mean' | 'sum' | 'none'
  ignoreIndex?: number
  labelSmoothing?: number
  weight?: number[]
  posWeight?: number[]
  gamma?: number
  alpha?: number | number[] | null
}

const f32 = (min: number, max: number): fc.Arbitrary<number> => fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true })
const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined })

const batchArb: fc.Arbitrary<Batch> = fc.record({
  activation: fc.constantFrom('softmax', 'sigmoid' as const),
  rank: fc.constantFrom(1, 2, 3),
  n: fc.integer({ min: 1, max: 6 }),
  c: fc.integer({ min: 1, max: 5 }),
  frames: fc.integer({ min: 1, max: 3 }),
  index: fc.boolean(),
  ignoreIndex: optional(fc.integer({ min: -3, max: 5 }))
}).chain(({ activation, rank, n, c, frames, index, ignoreIndex }) => {
  const r = activation === 'softmax' ? (rank === 1 ? 2 : rank) : (rank === 3 ? 2 : rank)
  const shape = r === 1 ? [n] : r === 2 ? [n, c] : [n, c, frames]
  const classes = r === 1 ? 1 : c
  const size = shape.reduce((a, b) => a * b, 1)
  const labelCount = r === 3 ? n * frames : n
  const useIndex = index && r > 1
  const ignore = ignoreIndex ?? -100
  const label = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: classes - 1 }) }, { weight: 1, arbitrary: fc.constant(ignore) })
  // Zero, or far from float32's subnormals: a weight of 1e-45 makes the weighted mean's denominator
  // exact in float64 but not the float32 numerator, and the ratio off by tens of percent.
  const vector = (max: number) => fc.array(fc.oneof(fc.constant(0), f32(0.01, max)), { minLength: classes, maxLength: classes })
  return fc.record({
    activation: fc.constant(activation),
    shape: fc.constant(shape),
    x: fc.array(f32(-15, 15), { minLength: size, maxLength: size }),
    labels: useIndex
      ? fc.array(label, { minLength: labelCount, maxLength: labelCount }).map((y) => ({ kind: 'index' as const, y }))
      : fc.array(f32(0, 1), { minLength: size, maxLength: size }).map((t) => ({ kind: 'dense' as const, t })),
    reduction: optional(fc.constantFrom('mean', 'sum', 'none' as const)),
    ignoreIndex: fc.constant(ignoreIndex),
    labelSmoothing: optional(fc.oneof(fc.constant(0), f32(0, 1))),
    weight: optional(vector(5)),
    posWeight: activation === 'sigmoid' ? optional(vector(5)) : fc.constant(undefined),
    gamma: optional(fc.oneof(fc.constantFrom(0, 1, 2), f32(0, 5))),
    alpha: optional(fc.oneof(f32(0, 1), fc.constant(null), vector(activation === 'sigmoid' ? 1 : 3)))
  }, { requiredKeys: ['activation', 'shape', 'x', 'labels', 'ignoreIndex'] })
})

/** Nested arrays of `shape` from a flat row-major list. */
function nest (flat: readonly number[], shape: readonly number[]): unknown {
  if (shape.length <= 1) return [...flat]
  const stride = shape.slice(1).reduce((a, b) => a * b, 1)
  return Array.from({ length: shape[0] ?? 0 }, (_, i) => nest(flat.slice(i * stride, (i + 1) * stride), shape.slice(1)))
}

const ceFields = (b: Batch) => ({ weight: b.weight, posWeight: b.posWeight })
const focalFields = (b: Batch) => ({ gamma: b.gamma, alpha: b.alpha })

function restRequest (url: string, b: Batch): Json {
  const [n = 1, , frames] = b.shape
  const labels = b.labels.kind === 'index' ? nest(b.labels.y, frames === undefined ? [n] : [n, frames]) : nest(b.labels.t, b.shape)
  const common = { logits: nest(b.x, b.shape), labels, activation: b.activation, reduction: b.reduction, ignoreIndex: b.ignoreIndex, labelSmoothing: b.labelSmoothing }
  const body = url.endsWith('/ce') ? { ...common, ...ceFields(b) } : url.endsWith('/focal') ? { ...common, ...focalFields(b) } : { ...common, ...ceFields(b), ...focalFields(b) }
  return JSON.parse(JSON.stringify(body))
}

function v2Request (model: 'ce' | 'focal', b: Batch): Json {
  const [n = 1, , frames] = b.shape
  const vector = (name: string, v: number[] | undefined) => v === undefined ? [] : [{ name, shape: [v.length], datatype: 'FP32', data: v }]
  const inputs = [
    { name: 'logits', shape: b.shape, datatype: 'FP32', data: b.x },
    b.labels.kind === 'index'
      ? { name: 'labels', shape: frames === undefined ? [n] : [n, frames], datatype: 'INT64', data: b.labels.y }
      : { name: 'labels', shape: b.shape, datatype: 'FP32', data: b.labels.t },
    ...(model === 'ce' ? [...vector('weight', b.weight), ...vector('pos_weight', b.posWeight)] : vector('alpha', Array.isArray(b.alpha) ? b.alpha : undefined))
  ]
  const parameters: Record<string, unknown> = { activation: b.activation, reduction: b.reduction, ignore_index: b.ignoreIndex, label_smoothing: b.labelSmoothing }
  if (model === 'focal') {
    parameters.gamma = b.gamma
    if (!Array.isArray(b.alpha)) parameters.alpha = b.alpha === null ? -1 : b.alpha
  }
  return JSON.parse(JSON.stringify({ inputs, parameters }))
}

interface Reference {
  values: number[]
  sum: number
  normalizer: number
  loss: number | null
}

const softplus = (z: number): number => z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))

function logSoftmax (x: readonly number[]): number[] {
  const m = Math.max(...x)
  const lse = m + Math.log(x.reduce((s, v) => s + Math.exp(v - m), 0))
  return x.map((v) => v - lse)
}

/** The batch as rows of C values: [N, C] as is, [N] as [N, 1], [N, C, T] as [N*T, C] (frame-major). */
function rows (b: Batch, flat: readonly number[]): number[][] {
  const [n = 1, c = 1, frames] = b.shape.length === 1 ? [b.shape[0], 1] : b.shape
  const out: number[][] = []
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < (frames ?? 1); t++) {
      out.push(Array.from({ length: c }, (_, k) => flat[frames === undefined ? i * c + k : (i * c + k) * frames + t] ?? NaN))
    }
  }
  return out
}

/**
 * Float64 references. Softmax CE: PyTorch cross_entropy (weight, ignore_index, label_smoothing;
 * weighted mean for indices, N for probabilities). Sigmoid CE: BCE-with-logits with weight and
 * pos_weight, mean over elements. Sigmoid focal: torchvision's ce * (1 - p_t)^gamma * alpha_t. Softmax
 * focal: sum_c alpha_c t'_c (1 - p_c)^gamma (-log p_c), mean over rows that count.
 */
function reference (loss: 'ce' | 'focal', b: Batch): Reference {
  const eps = b.labelSmoothing ?? 0
  const ignore = b.ignoreIndex ?? -100
  const gamma = b.gamma ?? 2
  const alpha = b.alpha === undefined ? 0.25 : b.alpha
  const alphaOf = (c: number): number => alpha === null ? 1 : typeof alpha === 'number' ? alpha : alpha[c] ?? NaN
  const w = (c: number): number => b.weight?.[c] ?? 1
  const pw = (c: number): number => b.posWeight?.[c] ?? 1
  const xs = rows(b, b.x)
  const ts = b.labels.kind === 'dense' ? rows(b, b.labels.t) : undefined
  const ys = b.labels.kind === 'index' ? b.labels.y : undefined
  const values: number[] = []
  let normalizer = 0
  xs.forEach((x, r) => {
    const C = x.length
    const y = ys?.[r]
    const ignored = y !== undefined && y === ignore
    if (b.activation === 'softmax') {
      if (ignored) {
        values.push(0)
        return
      }
      const lp = logSoftmax(x)
      const target = y !== undefined ? x.map((_, c) => eps / C + (c === y ? 1 - eps : 0)) : (ts?.[r] ?? []).map((t) => t * (1 - eps) + eps / C)
      if (loss === 'ce') {
        if (y !== undefined) {
          values.push((1 - eps) * w(y) * -(lp[y] ?? NaN) + (eps / C) * lp.reduce((s, l, c) => s - w(c) * l, 0))
          normalizer += w(y)
        } else {
          values.push(lp.reduce((s, l, c) => s - w(c) * (target[c] ?? NaN) * l, 0))
          normalizer += 1
        }
      } else {
        values.push(lp.reduce((s, l, c) => s + alphaOf(c) * (target[c] ?? NaN) * (-Math.expm1(l)) ** gamma * -l, 0))
        normalizer += 1
      }
      return
    }
    if (ignored) {
      values.push(...x.map(() => 0))
      return
    }
    normalizer += C
    x.forEach((v, c) => {
      const t0 = y !== undefined ? (c === y ? 1 : 0) : ts?.[r]?.[c] ?? NaN
      const t = t0 * (1 - eps) + eps / 2
      const logP = -softplus(-v)
      const log1mP = -softplus(v)
      if (loss === 'ce') {
        values.push(-w(c) * (pw(c) * t * logP + (1 - t) * log1mP))
      } else {
        const p = 1 / (1 + Math.exp(-v))
        const oneMinusPt = p + t - 2 * p * t
        let l = -(t * logP + (1 - t) * log1mP) * oneMinusPt ** gamma
        if (alpha !== null) l *= alphaOf(c) * t + (1 - alphaOf(c)) * (1 - t)
        values.push(l)
      }
    })
  })
  const sum = values.reduce((a, v) => a + v, 0)
  const reduction = b.reduction ?? 'mean'
  return { values, sum, normalizer, loss: reduction === 'sum' ? sum : reduction === 'none' || normalizer === 0 ? null : sum / normalizer }
}

const close = (got: number, want: number): boolean => Math.abs(got - want) <= ATOL + RTOL * Math.abs(want)

let worst = 0
function expectClose (what: string, got: unknown, want: number | null): void {
  if (want === null) {
    assert.equal(got, null, what)
    return
  }
  assert.equal(typeof got, 'number', `${what}: ${JSON.stringify(got)}`)
  const g = got as number
  worst = Math.max(worst, Math.abs(g - want) / (ATOL + RTOL * Math.abs(want)))
  assert.ok(close(g, want), `${what}: got ${g}, float64 reference ${want}`)
}

function expectResult (what: string, got: { loss: unknown, sum: unknown, normalizer: unknown, values?: unknown }, ref: Reference, reduction: Batch['reduction']): void {
  expectClose(`${what} sum`, got.sum, ref.sum)
  expectClose(`${what} normalizer`, got.normalizer, ref.normalizer)
  if ((reduction ?? 'mean') === 'none') {
    const flat = (got.values ?? (got.loss as unknown[])) as unknown[]
    const values = Array.isArray(flat) ? flat.flat(3) : []
    assert.equal(values.length, ref.values.length, `${what}: ${values.length} values`)
    values.forEach((v, i) => expectClose(`${what} value ${i}`, v, ref.values[i] ?? NaN))
  } else {
    expectClose(`${what} loss`, got.loss, ref.loss)
  }
}

const v2Output = (json: Json, name: string): unknown[] => (json.outputs as Array<{ name: string, data: unknown[] }>).find((o) => o.name === name)?.data ?? []

// ---------------------------------------------------------------------------------------------

for (const backend of BACKENDS) {
  test(`random bodies at every POST route: never a 5xx, errors in the route's format, no tensor left (${backend})`, async (t) => {
    const app = await build(backend)
    const urls = postRoutes(app)
    assert.ok(urls.includes('/loss/ce') && urls.includes('/loss/focal'), urls.join(', '))
    t.diagnostic(`routes: ${urls.join(', ')}`)
    const tensors = tf.memory().numTensors
    const statuses = new Map<number, number>()
    for (const url of urls) {
      await fc.assert(fc.asyncProperty(randomRequest(url), async ({ text, contentType }) => {
        const res = await app.inject({ method: 'POST', url, payload: text, headers: { 'content-type': contentType ?? 'application/json' } })
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
        assert.ok([200, 400, 404, 413, 415, 422].includes(res.statusCode), `${res.statusCode}: ${res.body}`)
        const json = res.json()
        if (res.statusCode >= 400) {
          if (url.startsWith('/v2/')) {
            assert.deepEqual(Object.keys(json), ['error'])
            assert.ok(typeof json.error === 'string' && json.error.length > 0)
          } else {
            assert.equal(json.statusCode, res.statusCode)
            assert.ok(typeof json.message === 'string' && json.message.length > 0)
          }
        }
        assert.equal(tf.memory().numTensors, tensors, 'no tensor outlives the request')
      }), { numRuns: RUNS, seed: SEED, includeErrorInReport: true })
    }
    t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
    assert.ok((statuses.get(200) ?? 0) > 0 && (statuses.get(400) ?? 0) > 0)
    await app.close()
  })

  test(`random valid batches equal float64 references within ${ATOL} + ${RTOL}·|ref| (${backend})`, async (t) => {
    const app = await build(backend)
    const urls = postRoutes(app)
    const tensors = tf.memory().numTensors
    worst = 0
    await fc.assert(fc.asyncProperty(batchArb, async (b) => {
      const ce = reference('ce', b)
      const focal = reference('focal', b)
      for (const [url, ref] of [['/loss/ce', ce], ['/loss/focal', focal]] as const) {
        const res = await app.inject({ method: 'POST', url, payload: restRequest(url, b) })
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`)
        expectResult(url, res.json(), ref, b.reduction)
      }
      if (urls.includes('/loss/compare')) {
        const res = await app.inject({ method: 'POST', url: '/loss/compare', payload: restRequest('/loss/compare', b) })
        assert.equal(res.statusCode, 200, `/loss/compare: ${res.body}`)
        expectResult('/loss/compare ce', res.json().ce, ce, b.reduction)
        expectResult('/loss/compare focal', res.json().focal, focal, b.reduction)
      }
      for (const [model, ref] of [['ce', ce], ['focal', focal]] as const) {
        const url = `/v2/models/${model}/infer`
        if (!urls.includes(url)) continue
        const res = await app.inject({ method: 'POST', url, payload: v2Request(model, b) })
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`)
        const json = res.json()
        expectResult(url, { loss: v2Output(json, 'loss')[0], values: v2Output(json, 'loss'), sum: v2Output(json, 'sum')[0], normalizer: v2Output(json, 'normalizer')[0] }, ref, b.reduction)
      }
      assert.equal(tf.memory().numTensors, tensors)
    }), { numRuns: RUNS, seed: SEED, includeErrorInReport: true })
    t.diagnostic(`largest error: ${worst.toFixed(3)} of the tolerance`)
    await app.close()
  })
}
