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
 * 3. Hostile JSON the JSONTestSuite corpus lacks: nesting around and far past the limit, repeated
 *    keys in every spelling, 1000-digit numbers and exponents past float64, truncated bodies; each
 *    also sent after a UTF-8 BOM (the JSON.parse path) for the same answer; exact messages.
 *
 * FUZZ_RUNS (default 150) sets the runs per route and backend (per kind of probe in 3); FUZZ_SEED the seed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { BACKENDS, build } from '../helper.js'
import { MAX_DEPTH } from '../../src/wire/json-structure.js'

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
// Hostile JSON: what JSONTestSuite's corpus (test/http/json-corpus.test.ts) lacks

const F32_MAX = 3.4028234663852886e38
const BOM = '\ufeff'
const V2_MODELS = ['ce', 'focal', 'compare'] as const
const deepMessage = (field: string): string => `${field} nests deeper than ${MAX_DEPTH} levels, the limit`

/** Nesting around the limit and far past it. */
const depthArb = fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: MAX_DEPTH - 3, max: MAX_DEPTH + 3 }), fc.constantFrom(1000, 5000, 100_000))

/** `depth` arrays or objects nested in one another, as text. */
const chainArb = fc.record({ depth: depthArb, objects: fc.boolean(), space: fc.constantFrom('', ' ', '\n'), inner: fc.constantFrom('', '1', '"x"', '{}') })
  .map(({ depth, objects, space, inner }) => ({
    depth,
    objects,
    text: objects
      ? `{${space}"k":${space}`.repeat(depth) + (inner === '' ? '1' : inner) + `${space}}`.repeat(depth)
      : `[${space}`.repeat(depth) + inner + `${space}]`.repeat(depth)
  }))

/** A key with some of its characters written as \u escapes (hex in either case). */
const spelled = (key: string): fc.Arbitrary<string> => fc.array(fc.integer({ min: 0, max: 2 }), { minLength: key.length, maxLength: key.length })
  .map((how) => JSON.stringify(key).slice(1, -1).replace(/[a-z_]/gi, (ch, i: number) => {
    const code = ch.charCodeAt(0).toString(16).padStart(4, '0')
    return how[i] === 1 ? `\\u${code}` : how[i] === 2 ? `\\u${code.toUpperCase()}` : ch
  }))

const entriesText = (obj: Record<string, unknown>): string[] => Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}: ${toText(v)}`)

/** An object as text with `key` written once more (spelled `again`) at entry `at`. */
function objectWithRepeat (obj: Record<string, unknown>, key: string, again: string, at: number, value: unknown): string {
  const entries = entriesText(obj)
  entries.splice(at % (entries.length + 1), 0, `"${again}": ${toText(value)}`)
  return `{${entries.join(', ')}}`
}

/** JSON number literals of 1000+ digits, and exponents past float64's range either way. */
const longNumberArb = fc.tuple(
  fc.constantFrom('', '-'),
  fc.oneof(fc.constant('0'), fc.tuple(fc.constantFrom(...'123456789'), digitsArb(0, 1200)).map(([a, b]) => a + b)),
  fc.option(digitsArb(1, 1200), { nil: undefined }),
  fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 300, max: 500 }), fc.integer({ min: 1000, max: 100_000 }))), { nil: undefined })
).map(([sign, int, frac, exp]) => sign + int + (frac === undefined ? '' : `.${frac}`) + (exp === undefined ? '' : `${exp[0]}${exp[1]}${exp[2]}`))
  .filter((text) => text.replace(/\D/g, '').length >= 1000 || /e[+-]?\d{3}/i.test(text))

function digitsArb (min: number, max: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max })
}

/** `logits[1][2]`: where flat index `k` of an array of `shape` is. */
function indexText (name: string, shape: readonly number[], k: number): string {
  const out: number[] = []
  let rest = k
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d] ?? 1
    out.unshift(rest % size)
    rest = Math.floor(rest / size)
  }
  return name + out.map((i) => `[${i}]`).join('')
}

interface Probe { url: string, text: string, message?: string, sameAs?: string }

/** Deep nesting in a REST field or a V2 request; the message is exact past the limit. */
const deepProbe: fc.Arbitrary<Probe> = fc.tuple(batchArb, chainArb, fc.constantFrom('/loss/ce', '/loss/focal', '/loss/compare', ...V2_MODELS), fc.constantFrom('logits', 'labels', 'weight', 'extra', 'parameters', 'data'), fc.boolean())
  .map(([b, chain, route, field, first]) => {
    if (route.startsWith('/')) {
      const body = restRequest(route, b) as Record<string, unknown>
      const name = field === 'parameters' || field === 'data' ? 'extra' : field
      const { [name]: _, ...others } = body
      const entries = [`"${name}": ${chain.text}`, ...entriesText(others)]
      const text = `{${(first ? entries : entries.reverse()).join(', ')}}`
      return { url: route, text, message: 1 + chain.depth > MAX_DEPTH ? deepMessage(name) : undefined }
    }
    const body = v2Request(route === 'focal' ? 'focal' : 'ce', b) as { inputs: Array<Record<string, unknown>>, parameters: Record<string, unknown> }
    const url = `/v2/models/${route}/infer`
    if (field === 'data' || field === 'labels' || field === 'logits') {
      const [input, ...rest] = body.inputs
      const { data: _, ...fields } = input ?? {}
      const inputText = `{${[...entriesText(fields), `"data": ${chain.text}`].join(', ')}}`
      const text = `{"parameters": ${toText(body.parameters)}, "inputs": [${[inputText, ...rest.map(toText)].join(', ')}]}`
      return { url, text, message: 3 + chain.depth > MAX_DEPTH ? deepMessage(chain.objects ? 'inputs[0]' : 'inputs[0].data') : undefined }
    }
    const name = field === 'weight' ? 'id' : field === 'parameters' ? 'parameters' : 'extra'
    const text = `{"${name}": ${chain.text}, "inputs": ${toText(body.inputs)}}`
    return { url, text, message: 1 + chain.depth > MAX_DEPTH ? deepMessage(name) : undefined }
  })

/** A key of a valid request given twice, either spelling escaped or both; nested ones too. */
const repeatProbe: fc.Arbitrary<Probe> = fc.tuple(batchArb, fc.constantFrom('/loss/ce', '/loss/focal', '/loss/compare', ...V2_MODELS), fc.nat(), fc.nat(), fc.nat(), scalar)
  .chain(([b, route, pick, at, inner, value]) => {
    if (route.startsWith('/')) {
      const body = restRequest(route, b) as Record<string, unknown>
      if (pick % 4 === 0 && route !== '/loss/ce') {
        const balance = { counts: [3, 2, 1], beta: 0.5 }
        const key = inner % 2 === 0 ? 'counts' : 'beta'
        return spelled(key).map((again) => ({
          url: route,
          text: `{${[...entriesText(body), `"classBalance": ${objectWithRepeat(balance, key, again, at, value)}`].join(', ')}}`,
          message: `classBalance.${key} is given twice`
        }))
      }
      const keys = Object.keys(body)
      const key = keys[pick % keys.length] ?? 'logits'
      return spelled(key).map((again) => ({ url: route, text: objectWithRepeat(body, key, again, at, value), message: `${key} is given twice` }))
    }
    const body = v2Request(route === 'focal' ? 'focal' : 'ce', b) as { inputs: Array<Record<string, unknown>>, parameters: Record<string, unknown> }
    const url = `/v2/models/${route}/infer`
    const where = pick % 3
    if (where === 0) {
      const key = ['inputs', 'parameters'][inner % 2] as string
      return spelled(key).map((again) => ({ url, text: objectWithRepeat(body, key, again, at, value), message: `${key} is given twice` }))
    }
    if (where === 1 && Object.keys(body.parameters).length > 0) {
      const keys = Object.keys(body.parameters)
      const key = keys[inner % keys.length] as string
      return spelled(key).map((again) => ({ url, text: `{"inputs": ${toText(body.inputs)}, "parameters": ${objectWithRepeat(body.parameters, key, again, at, value)}}`, message: `parameters.${key} is given twice` }))
    }
    const i = inner % body.inputs.length
    const keys = Object.keys(body.inputs[i] ?? {})
    const key = keys[at % keys.length] as string
    return spelled(key).map((again) => {
      const inputs = body.inputs.map((input, j) => j === i ? objectWithRepeat(input, key, again, inner, value) : toText(input))
      return { url, text: `{"parameters": ${toText(body.parameters)}, "inputs": [${inputs.join(', ')}]}`, message: `inputs[${i}].${key} is given twice` }
    })
  })

/**
 * A long number or one past float64 in the logits: the answer is the one for the double it reads
 * as (JSON.parse's), or when that is no finite float32 the decoder's message.
 */
const numberProbe: fc.Arbitrary<Probe> = fc.tuple(batchArb, fc.constantFrom('/loss/ce', '/loss/focal', '/loss/compare'), fc.nat(), longNumberArb)
  .map(([b, url, pick, literal]) => {
    const k = pick % b.x.length
    const v = Number(literal)
    const withValue = (token: unknown): string => toText(restRequest(url, { ...b, x: b.x.map((x, i) => i === k ? token as number : x) }))
    const finite = Math.abs(v) <= F32_MAX
    return {
      url,
      text: withValue(`§${literal}§`),
      ...(finite ? { sameAs: withValue(v) } : { message: `${indexText('logits', b.shape, k)} = ${v} is not a finite float32 value` })
    }
  })

/** Every prefix of a valid body, sampled: the message is JSON.parse's, word for word. */
const truncatedProbe: fc.Arbitrary<Probe> = fc.tuple(batchArb, fc.constantFrom('/loss/ce', '/loss/focal', '/loss/compare', ...V2_MODELS), fc.nat())
  .map(([b, route, cut]) => {
    const v2 = !route.startsWith('/')
    const full = JSON.stringify(v2 ? v2Request(route === 'focal' ? 'focal' : 'ce', b) : restRequest(route, b))
    const text = full.slice(0, cut % full.length)
    let reason = ''
    try {
      JSON.parse(text)
    } catch (err) {
      reason = (err as Error).message
    }
    const message = text === ''
      ? `body is empty; expected a JSON ${v2 ? 'inference request' : 'object'}`
      : `${v2 ? 'the JSON header' : 'body'} is not valid JSON: ${reason}`
    return { url: v2 ? `/v2/models/${route}/infer` : route, text, message }
  })

const GOOD = { logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [0, 2] }

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

  test(`hostile JSON: deep nesting, repeated and escaped keys, long numbers, exponents past float64, a BOM, truncated bodies (${backend})`, async (t) => {
    const app = await build(backend)
    const tensors = tf.memory().numTensors
    const good = (await app.inject({ method: 'POST', url: '/loss/ce', payload: GOOD })).json()
    const send = async (url: string, text: string): Promise<{ status: number, json: Json }> => {
      const res = await app.inject({ method: 'POST', url, payload: text, headers: { 'content-type': 'application/json' } })
      assert.ok(res.statusCode < 500, `${url}: ${res.statusCode} ${res.body}`)
      return { status: res.statusCode, json: res.json() }
    }
    const counts = { exact: 0, same: 0, other: 0 }
    for (const [name, probe] of [['deep', deepProbe], ['repeated', repeatProbe], ['numbers', numberProbe], ['truncated', truncatedProbe]] as const) {
      await fc.assert(fc.asyncProperty(probe, async ({ url, text, message, sameAs }) => {
        const got = await send(url, text)
        // The scanner declines a body that starts with a BOM: the same answer from the JSON.parse path
        // (a BOM alone is no empty body, but invalid JSON).
        if (text !== '') assert.deepEqual(await send(url, BOM + text), got, `${url}: with a BOM`)
        if (message !== undefined) {
          assert.deepEqual(got, { status: 400, json: url.startsWith('/v2/') ? { error: message } : { statusCode: 400, error: 'Bad Request', message } }, `${name} ${url}`)
          counts.exact++
        } else if (sameAs !== undefined) {
          assert.deepEqual(got, await send(url, sameAs), `${name} ${url}: as the double it reads as`)
          counts.same++
        } else {
          counts.other++
        }
        assert.deepEqual((await app.inject({ method: 'POST', url: '/loss/ce', payload: GOOD })).json(), good)
        assert.equal(tf.memory().numTensors, tensors, 'no tensor outlives the request')
      }), { numRuns: RUNS, seed: SEED, includeErrorInReport: true })
    }
    t.diagnostic(`exact messages ${counts.exact}, same as the double ${counts.same}, other 4xx/2xx ${counts.other}`)
    assert.ok(counts.exact > RUNS && counts.same > 0)
    await app.close()
  })
}
