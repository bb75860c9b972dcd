/**
 * Expands the `{"$gen": {...}}` placeholders of the golden fixtures into concrete arrays.
 *
 * TypeScript twin of `gen()` in generate.py: both must produce bit-identical values, which
 * test/unit/golden-inputs.test.ts checks against fingerprints stored in cases.json. Change both together.
 */
import { mulberry32 } from '../../scripts/lib/random.js'

export type Nested = number | Nested[]

export interface GenSpec {
  kind: 'logits' | 'index' | 'probs' | 'targets' | 'binary' | 'uniform'
  seed: number
  shape?: number[]
  scale?: number
  n?: number
  t?: number
  classes?: number
  longTail?: number
  ignoreEvery?: number
  ignoreValue?: number
  p?: number
  power?: number
  low?: number
  high?: number
}

/** u ** k by left-to-right multiplication: Math.pow and C pow may differ in the last bit. */
function ipow (u: number, k: number): number {
  let p = u
  for (let i = 1; i < k; i++) p *= u
  return p
}

function need<T> (value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`$gen: missing ${what}`)
  return value
}

function nest (flat: number[], shape: readonly number[], offset = 0): Nested[] {
  const [head, ...rest] = shape
  if (head === undefined) throw new Error('$gen: empty shape')
  if (rest.length === 0) return flat.slice(offset, offset + head)
  const step = rest.reduce((a, b) => a * b, 1)
  const out: Nested[] = []
  for (let i = 0; i < head; i++) out.push(nest(flat, rest, offset + i * step))
  return out
}

/** The values of one placeholder, flat in row-major order, with the shape to nest them in. */
export function generateFlat (spec: GenSpec): { flat: number[], shape: number[] } {
  const next = mulberry32(spec.seed)
  if (spec.kind === 'index') {
    const n = need(spec.n, 'n')
    const classes = need(spec.classes, 'classes')
    const shape = spec.t === undefined ? [n] : [n, spec.t]
    const tail = spec.longTail ?? 1
    const every = spec.ignoreEvery ?? 0
    const ignore = spec.ignoreValue ?? -100
    const count = shape.reduce((a, b) => a * b, 1)
    const flat = new Array<number>(count)
    for (let i = 0; i < count; i++) {
      const label = Math.floor(classes * ipow(next(), tail))
      flat[i] = every > 0 && i % every === every - 1 ? ignore : label
    }
    return { flat, shape }
  }
  const shape = need(spec.shape, 'shape')
  const count = shape.reduce((a, b) => a * b, 1)
  const flat = new Array<number>(count)
  switch (spec.kind) {
    case 'logits': {
      const scale = need(spec.scale, 'scale')
      for (let i = 0; i < count; i++) flat[i] = Math.fround(scale * (2 * next() - 1))
      break
    }
    case 'targets':
      for (let i = 0; i < count; i++) flat[i] = Math.fround(next())
      break
    case 'binary': {
      const p = spec.p ?? 0.5
      for (let i = 0; i < count; i++) flat[i] = next() < p ? 1 : 0
      break
    }
    case 'uniform': {
      const low = need(spec.low, 'low')
      const high = need(spec.high, 'high')
      for (let i = 0; i < count; i++) flat[i] = Math.fround(low + (high - low) * next())
      break
    }
    case 'probs': {
      const power = spec.power ?? 1
      const c = need(shape[shape.length - 1], 'shape')
      const row = new Array<number>(c)
      for (let r = 0; r < count; r += c) {
        let s = 0
        for (let j = 0; j < c; j++) {
          const v = Math.fround(ipow(1 - next(), power))
          row[j] = v
          s += v
        }
        for (let j = 0; j < c; j++) flat[r + j] = Math.fround((row[j] ?? 0) / s)
      }
      break
    }
    default:
      throw new Error(`$gen: unknown kind ${String((spec as { kind: unknown }).kind)}`)
  }
  return { flat, shape }
}

export function generate (spec: GenSpec): Nested[] {
  const { flat, shape } = generateFlat(spec)
  return nest(flat, shape)
}

function isGen (value: object): value is { $gen: GenSpec } {
  const keys = Object.keys(value)
  return keys.length === 1 && keys[0] === '$gen'
}

/** Deep copy of a request body with every `{"$gen": spec}` replaced by its nested array. */
export function materialize (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(materialize)
  if (value !== null && typeof value === 'object') {
    if (isGen(value)) return generate(value.$gen)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, materialize(v)]))
  }
  return value
}

/** Row-major flattening of a nested number array (e.g. a reduction "none" reply). */
export function flatten (value: unknown, out: number[] = []): number[] {
  if (Array.isArray(value)) {
    for (const v of value) flatten(v, out)
  } else if (typeof value === 'number') {
    out.push(value)
  } else {
    throw new Error(`flatten: not a number: ${JSON.stringify(value)}`)
  }
  return out
}

/** FNV-1a over 32-bit patterns: two's complement if `integer` (index, binary kinds), else float32 bits; as in generate.py. */
export function fnv1a (values: readonly number[], integer: boolean): number {
  const f32 = new Float32Array(1)
  const u32 = new Uint32Array(f32.buffer)
  let h = 0x811C9DC5
  for (const v of values) {
    let bits: number
    if (integer) {
      bits = v >>> 0
    } else {
      f32[0] = v
      bits = u32[0] ?? 0
    }
    h = Math.imul(h ^ bits, 16777619) >>> 0
  }
  return h
}
