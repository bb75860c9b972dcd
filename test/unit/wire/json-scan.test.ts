/**
 * The body scanner (src/wire/json-scan.ts) against JSON.parse + the nested-array decoder it
 * short-cuts. Whenever the scanner accepts a body, JSON.parse must accept it too, every other field
 * must be what JSON.parse gives, and decoding logits and labels must give the same float32/int32 bits
 * or the same message. Number texts are generated as text, so they include forms JSON.stringify never
 * writes and numbers next to float32 rounding boundaries, where the scanner's approximate reading
 * must hand over to an exact one.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { jsonBody, softmaxBatch } from '../../../scripts/lib/bodies.js'
import { decodeFloats, decodeLabels } from '../../../src/wire/json/arrays.js'
import { decodeInput } from '../../../src/wire/json/request.js'
import { PackedArray, scanBody } from '../../../src/wire/json-scan.js'
import { InvalidInputError } from '../../../src/errors.js'
import { checkKeys, checkNesting, MAX_DEPTH, wellFormed } from '../../../src/wire/json-structure.js'

const KEYS: ReadonlySet<string> = new Set(['logits', 'labels'])
const RUNS = Number(process.env.FUZZ_RUNS ?? 150) * 20
const SEED = Number(process.env.FUZZ_SEED ?? 20251130)

const digits = (min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''))

/** A float32 value and the next one up, and texts at, between and around their midpoint. */
const nearMidpoint = fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-3e38), max: Math.fround(3e38) }).chain((f) => {
  const bits = new Float32Array([f])
  const view = new Int32Array(bits.buffer)
  view[0] = (view[0] ?? 0) + 1
  const mid = (f + (bits[0] ?? 0)) / 2
  return fc.constantFrom(
    String(mid), mid.toPrecision(17), mid.toPrecision(19), mid.toPrecision(21), mid.toExponential(18),
    String(mid * (1 + 2 ** -52)), String(mid * (1 - 2 ** -52)), String(f), f.toPrecision(9)
  )
})

/** The text of one JSON number, in every form the grammar allows. */
const numberText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.float({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)) },
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)) },
  { weight: 2, arbitrary: fc.integer({ min: -5, max: 500 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('2147483647', '2147483648', '-2147483647', '-2147483648', '9007199254740993', '-0', '0', '0.0', '-0.0e5', '1.0') },
  { weight: 3, arbitrary: nearMidpoint },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.constantFrom('', '-'),
      fc.oneof(fc.constant('0'), fc.tuple(fc.constantFrom(...'123456789'), digits(0, 24)).map(([a, b]) => a + b)),
      fc.option(digits(1, 26), { nil: undefined }),
      fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 400 })), { nil: undefined })
    ).map(([sign, int, frac, exp]) => sign + int + (frac === undefined ? '' : `.${frac}`) + (exp === undefined ? '' : exp[0] + exp[1] + String(exp[2])))
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('3.4028234663852886e38', '3.4028235e38', '3.40282357e38', '3.4028235677973366e38', '3.4028236e38', '-3.5e38',
      '1e39', '1e400', '1e-400', '1e-45', '1.401298464324817e-45', '7.006492321624085e-46', '7.0064923216240862e-46', '0.1e-45')
  }
)

/** Not a JSON number, or not one the decoder takes. */
const badToken = fc.constantFrom('"1"', 'null', 'true', '{}', '[]', '1.', '.5', '+1', '01', '1e', '--1', 'NaN', '0x10', '1 2', '')

/** One time in five, a value; otherwise undefined. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary })

const ws = fc.constantFrom('', '', '', ' ', '\n  ', '\t', '\r\n')

/** A nested array of `shape` as text, sometimes broken: ragged, a bad token, an empty row. */
function arrayText (shape: readonly number[]): fc.Arbitrary<string> {
  const size = shape.reduce((a, b) => a * b, 1)
  return fc.tuple(
    fc.array(numberText, { minLength: size, maxLength: size }),
    ws,
    rarely(fc.tuple(fc.nat(size - 1), fc.oneof(badToken, fc.constant('<drop>'), fc.constant('<ragged>'))))
  ).map(([values, space, broken]) => {
    const tokens = [...values]
    if (broken !== undefined) {
      const [at, how] = broken
      tokens[at] = how === '<drop>' ? '' : how === '<ragged>' ? `${tokens[at] ?? '0'},${tokens[at] ?? '0'}` : how
    }
    let k = 0
    const build = (dim: number): string => {
      const n = shape[dim] ?? 0
      const parts: string[] = []
      for (let i = 0; i < n; i++) parts.push(dim === shape.length - 1 ? tokens[k++] ?? '' : build(dim + 1))
      return `[${space}${parts.filter((p) => p !== '').join(`${space},${space}`)}${space}]`
    }
    return build(0)
  })
}

const dims = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 })

/** A whole body: logits, labels of a shape that fits (or not), and a few other fields. */
const bodyText: fc.Arbitrary<string> = dims.chain((shape) => {
  const labelShapes = [shape.slice(0, 1), shape, [shape[0] ?? 1, shape[2] ?? 1], [(shape[0] ?? 1) + 1]]
  const intLabels = fc.array(fc.oneof(fc.integer({ min: -100, max: 5 }).map(String), fc.constantFrom('1.0', '1e0', '2147483648', '-0', '0.5')), { minLength: 1, maxLength: 6 })
    .map((xs) => `[${xs.join(',')}]`)
  const fields = fc.record({
    logits: arrayText(shape),
    labels: fc.oneof(fc.constantFrom(...labelShapes).chain(arrayText), intLabels),
    others: fc.subarray(['"gamma":2', '"reduction":"none"', '"activation":"sigmoid"', '"classBalance":{"counts":[1,2],"beta":0.9}', '"note":"a\\"]}b"', '"weight":[1,2,3]']),
    declined: rarely(fc.constantFrom('"\\u006cogits":[[1]]', '"labels":[0]', '"__proto__":{}', '"classBalance":{"constructor":1}', '"x":[{"prototype":1}]', '"é":1'))
  })
  return fc.tuple(fields, ws, fc.boolean()).map(([f, space, labelsFirst]) => {
    const pairs = [`"logits":${space}${f.logits}`, `"labels":${f.labels}`]
    if (labelsFirst) pairs.reverse()
    return `${space}{${space}${[...pairs, ...f.others, ...(f.declined === undefined ? [] : [f.declined])].join(`,${space}`)}${space}}${space}`
  })
})

type Outcome = { error: string } | { value: unknown }

function outcome (run: () => unknown): Outcome {
  try {
    return { value: run() }
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err
    return { error: err.message }
  }
}

/** Typed arrays as their bytes, so -0 and every float32 bit pattern must match. */
function bits (value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}:${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`
  if (Array.isArray(value)) return value.map(bits)
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bits(v)]))
  return value
}

const same = (decode: (value: unknown) => unknown, fast: unknown, slow: unknown): void =>
  assert.deepEqual(bits(outcome(() => decode(fast))), bits(outcome(() => decode(slow))))

/** One array decoded every way the routes decode arrays: as floats of any or a given shape, as labels. */
function assertSame (fast: unknown, slow: unknown, logitsShape: readonly number[]): void {
  same((v) => decodeFloats('x', v), fast, slow)
  same((v) => decodeFloats('x', v, logitsShape), fast, slow)
  same((v) => decodeLabels(v, logitsShape), fast, slow)
}

test('the scanner accepts only what JSON.parse accepts, and decodes to the same bits or the same message', () => {
  let scanned = 0
  let packed = 0
  fc.assert(fc.property(bodyText, (text) => {
    const fast = scanBody(Buffer.from(text), KEYS)
    if (fast === undefined) return
    scanned++
    const slow = JSON.parse(text) as Record<string, unknown>
    assert.deepEqual(Object.keys(fast), Object.keys(slow))
    for (const key of Object.keys(slow)) {
      const value: unknown = fast[key]
      if (!(value instanceof PackedArray)) {
        assert.deepEqual(value, slow[key], key)
        continue
      }
      packed++
      assert.deepEqual(value.parse(), slow[key])
    }
    same((body) => decodeInput(body as { logits: unknown, labels: unknown }), fast, slow)
    for (const shape of [[2], [2, 3], [3, 2, 2], [1, 1]]) {
      assertSame(fast.logits, slow.logits, shape)
      assertSame(fast.labels, slow.labels, shape)
    }
  }), { numRuns: RUNS, seed: SEED })
  // The generator is not so broken that the fast path never runs.
  assert.ok(scanned > RUNS / 4, `scanned ${scanned} of ${RUNS}`)
  assert.ok(packed > RUNS / 4, `packed ${packed} arrays`)
})

test('the scanner declines invalid JSON, escaped, repeated and forbidden keys, and trailing bytes', () => {
  for (const text of [
    '', ' ', '[]', '{"logits":[[1]]', '{"logits":[[1]]}}', '{"logits":[[1]]} x', '{"logits" [[1]]}', '{"logits":[[1]],}', '{,"a":1}',
    '{"logits":[[1]],"logits":[[2]]}', '{"\\u006cogits":[[1]]}', '{"__proto__":{}}', '{"a":{"constructor":1}}', '{"a":[{"prototype":1}]}',
    '{"a":tru}', '{"a":"x}', '{"a":01}', '\uFEFF{"a":1}', '{"a":1}\u0000',
    '{"a":{"b":1,"b":2}}', '{"a":[{"b":1,"\\u0062":2}]}', `{"a":${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}}`,
    `{"logits":${'['.repeat(5000)}${']'.repeat(5000)}}`, `{"a":${'{"b":'.repeat(MAX_DEPTH)}1${'}'.repeat(MAX_DEPTH)}}`
  ]) {
    assert.equal(scanBody(Buffer.from(text), KEYS), undefined, text)
  }
})

test('the bench\'s bodies (float32 values written with up to 17 digits) take the fast path and decode exactly', () => {
  for (const [rows, classes] of [[64, 10], [256, 400]] as const) {
    const batch = softmaxBatch(7, rows, classes)
    const bytes = jsonBody(batch, 'softmax', { gamma: 2 })
    const body = scanBody(bytes, KEYS)
    assert.ok(body?.logits instanceof PackedArray && body.labels instanceof PackedArray)
    const input = decodeInput(body as { logits: unknown, labels: unknown })
    assert.deepEqual(input.shape, [rows, classes])
    assert.deepEqual(bits(input.logits), bits(batch.logits))
    assert.deepEqual(bits(input.labels.data), bits(batch.index))
    assert.equal(body.gamma, 2)
  }
})

/** Both checks, as the body parser runs them on a text JSON.parse accepts. */
const checkStructure = (text: string): void => { checkKeys(text, checkNesting(text)) }

/** A JSON value whose objects are lists of entries, so that a key can repeat; keys written in either spelling. */
type Tree = number | string | Tree[] | { entries: Array<{ key: string, escaped: boolean, value: Tree }> }

const KEY_PARTS = ['a', 'b', '"', '\\', '[', '{', '}', ']', ':', ',', 'é', '\u0000', ' ']
const { tree: treeArb } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', maxDepth: 8 },
    fc.integer(),
    fc.array(fc.constantFrom(...KEY_PARTS), { maxLength: 4 }).map((p) => p.join('')),
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.array(fc.record({ key: fc.array(fc.constantFrom(...KEY_PARTS), { maxLength: 2 }).map((p) => p.join('')), escaped: fc.boolean(), value: tie('tree') }), { maxLength: 4 })
      .map((entries) => ({ entries })))
}))

const escapeAll = (key: string): string => `"${[...key].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`

function treeText (t: Tree, space: string): string {
  if (typeof t === 'number' || typeof t === 'string') return JSON.stringify(t)
  if (Array.isArray(t)) return `[${space}${t.map((v) => treeText(v, space)).join(`,${space}`)}${space}]`
  return `{${space}${t.entries.map((e) => `${e.escaped ? escapeAll(e.key) : JSON.stringify(e.key)}${space}:${space}${treeText(e.value, space)}`).join(`,${space}`)}${space}}`
}

const depthOf = (t: Tree): number =>
  typeof t === 'number' || typeof t === 'string' ? 0 : 1 + Math.max(0, ...(Array.isArray(t) ? t : t.entries.map((e) => e.value)).map(depthOf))

/** The first repeated key in document order, as `a.b[2].c`, by a plain recursive walk. */
function firstRepeat (t: Tree, path: Array<string | number>): string | undefined {
  if (typeof t === 'number' || typeof t === 'string') return undefined
  const steps = Array.isArray(t) ? t.map((value, i) => ({ step: i as string | number, value })) : t.entries.map(({ key, value }) => ({ step: key, value }))
  const seen = new Set<string | number>()
  for (const { step, value } of steps) {
    const at = [...path, step]
    if (seen.has(step)) return at.map((s, i) => typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`).join('')
    seen.add(step)
    const found = firstRepeat(value, at)
    if (found !== undefined) return found
  }
  return undefined
}

test('json-structure finds the first repeated key (any spelling, any characters) and counts nesting exactly', () => {
  let repeats = 0
  fc.assert(fc.property(treeArb, ws, (t, space) => {
    const text = treeText(t, space)
    JSON.parse(text)
    const repeat = firstRepeat(t, [])
    const depth = depthOf(t)
    if (repeat === undefined) {
      checkStructure(text)
      assert.equal(wellFormed(text, MAX_DEPTH - depth), true)
      if (depth > 0) assert.equal(wellFormed(text, MAX_DEPTH - depth + 1), false)
    } else {
      repeats++
      assert.throws(() => checkStructure(text), (err: Error) => err instanceof InvalidInputError && err.message === `${repeat} is given twice`)
      assert.equal(wellFormed(text, 0), false)
    }
  }), { numRuns: RUNS, seed: SEED })
  assert.ok(repeats > RUNS / 20, `${repeats} repeats`)
})

test('json-structure names the field that nests too deep, down to the first array in an array or object in an object', () => {
  const deep = (n: number, inner = ''): string => '['.repeat(n) + inner + ']'.repeat(n)
  const cases: Array<[string, string]> = [
    [`{"logits": ${deep(MAX_DEPTH)}}`, 'logits'],
    [deep(MAX_DEPTH + 1), 'body'],
    [`{"a": ${'{"b": '.repeat(MAX_DEPTH)}1${'}'.repeat(MAX_DEPTH)}}`, 'a'],
    [`{"inputs": [{"name": "x"}, {"data": ${deep(MAX_DEPTH)}}]}`, 'inputs[1].data'],
    [`{"s": "[[[[{{{{\\"", "t": [{"u": {"v": ${deep(MAX_DEPTH)}}}]}`, 't[0]'],
    [`[${deep(MAX_DEPTH)}]`, 'body']
  ]
  for (const [text, field] of cases) {
    assert.throws(() => checkStructure(text), { message: `${field} nests deeper than ${MAX_DEPTH} levels, the limit` }, text.slice(0, 40))
  }
  checkStructure(`{"logits": ${deep(MAX_DEPTH - 1, '1')}}`)
})

test('json-structure ends on any text, JSON or not, with nothing but its own errors', () => {
  const pieces = fc.constantFrom('[', ']', '{', '}', '"', '\\', ':', ',', ' ', 'a', '1', '"a":', '\\u00', '\\"')
  fc.assert(fc.property(fc.oneof(fc.array(pieces, { maxLength: 200 }).map((p) => p.join('')), fc.string({ maxLength: 100 })), fc.integer({ min: 0, max: MAX_DEPTH }), (text, depth) => {
    wellFormed(text, depth)
    try {
      checkKeys(text, checkNesting(text))
    } catch (err) {
      assert.ok(err instanceof InvalidInputError, String(err))
    }
  }), { numRuns: RUNS, seed: SEED })
})

test('json-structure refuses deep nesting before JSON.parse, which is slow on it', () => {
  const texts = ['['.repeat(2e5), '['.repeat(2e5) + ']'.repeat(2e5), `{"a": "${'x'.repeat(100)}", "b": ${'['.repeat(2e5)}`]
  // Flat strings, as the body parser has them from a Buffer (a string built by repeat is flattened on first read).
  for (const text of texts.map((t) => Buffer.from(t).toString('latin1'))) {
    let checked = Infinity
    for (let round = 0; round < 3; round++) {
      const started = performance.now()
      assert.throws(() => checkNesting(text), { message: `${text.startsWith('{') ? 'b' : 'body'} nests deeper than ${MAX_DEPTH} levels, the limit` })
      checked = Math.min(checked, performance.now() - started)
    }
    const started = performance.now()
    try {
      JSON.parse(text)
    } catch {}
    // Relative, not absolute: the machine may be busy; the check stops at the limit, JSON.parse reads on.
    const parsed = performance.now() - started
    assert.ok(checked * 10 < parsed, `check ${checked} ms, JSON.parse ${parsed} ms`)
  }
})
