/**
 * JSON arrays <-> typed arrays. One pass per array checks shape, type and finiteness while it fills
 * a flat typed array, and names the first bad element: `logits[3][5] = "a" is not a number`.
 */
import { invalid } from '../../errors.js'
import type { Labels, LossInput } from '../../losses/index.js'
import { PackedArray } from '../json-scan.js'

const F32_MAX = 3.4028234663852886e38

function describe (v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)
  if (Array.isArray(v)) return 'an array'
  if (v === null) return 'null'
  return typeof v === 'object' ? 'an object' : String(v)
}

const path = (name: string, idx: readonly number[]): string => name + idx.map((i) => `[${i}]`).join('')

/** The shape of a nested array, read along its first elements. */
function probeShape (name: string, value: unknown): number[] {
  const shape: number[] = []
  let v = value
  const idx: number[] = []
  while (Array.isArray(v)) {
    if (v.length === 0) invalid(`${path(name, idx)} must not be empty`)
    shape.push(v.length)
    idx.push(0)
    v = v[0]
  }
  if (shape.length === 0) invalid(`${name} must be an array`)
  return shape
}

type Kind = 'float' | 'integer'

/** The row at `value[i]` of a nested array, which must be an array of `size` elements. */
function rowAt (name: string, value: unknown, idx: readonly number[], size: number, leaf: boolean): unknown[] {
  if (!Array.isArray(value)) invalid(`${path(name, idx)} must be an array of ${size} ${leaf ? 'numbers' : 'arrays'}, got ${describe(value)}`)
  if (value.length !== size) invalid(`${path(name, idx)} has ${value.length} values, expected ${size}`)
  return value
}

function badElement (name: string, idx: readonly number[], x: unknown, kind: Kind): never {
  if (typeof x !== 'number') return invalid(`${path(name, idx)} = ${describe(x)} is not a number`)
  return invalid(`${path(name, idx)} = ${x} ${kind === 'float' ? 'is not a finite float32 value' : 'is not an integer class index'}`)
}

/** Copies one innermost row into `out` at `k`, checking each element; returns the next offset. */
function fillRow (name: string, row: readonly unknown[], idx: readonly number[], kind: Kind, out: Float32Array | Int32Array, k: number): number {
  if (kind === 'float') {
    for (let i = 0; i < row.length; i++) {
      const x = row[i]
      if (typeof x !== 'number' || !(Math.abs(x) <= F32_MAX)) badElement(name, [...idx, i], x, kind)
      out[k++] = x
    }
  } else {
    for (let i = 0; i < row.length; i++) {
      const x = row[i]
      if (typeof x !== 'number' || !Number.isInteger(x) || Math.abs(x) > 0x7fffffff) badElement(name, [...idx, i], x, kind)
      out[k++] = x
    }
  }
  return k
}

/**
 * Fills `out` from a nested array of exactly `shape` (rank 1 to 3), checking every element. Plain
 * loops per rank: a recursive walker went megamorphic under mixed traffic and boxed every number.
 */
function fill (name: string, value: unknown, shape: readonly number[], kind: Kind, out: Float32Array | Int32Array): void {
  const [n = 0, c = 0, t = 0] = shape
  const top = rowAt(name, value, [], n, shape.length === 1)
  if (shape.length === 1) {
    fillRow(name, top, [], kind, out, 0)
    return
  }
  let k = 0
  for (let i = 0; i < n; i++) {
    const row = rowAt(name, top[i], [i], c, shape.length === 2)
    if (shape.length === 2) {
      k = fillRow(name, row, [i], kind, out, k)
      continue
    }
    for (let j = 0; j < c; j++) k = fillRow(name, rowAt(name, row[j], [i, j], t, true), [i, j], kind, out, k)
  }
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i])

/**
 * Floats from a body: a PackedArray the body scanner already checked is used as it is; anything it
 * could not vouch for is read again as nested arrays, so there is one set of checks and messages.
 */
export function decodeFloats (name: string, value: unknown, shape?: readonly number[]): { data: Float32Array, shape: number[] } {
  if (value instanceof PackedArray) {
    if (value.finite && value.shape.length <= 3 && (shape === undefined || sameShape(value.shape, shape))) return { data: value.values, shape: [...value.shape] }
    return decodeFloats(name, value.parse(), shape)
  }
  const found = shape === undefined ? probeShape(name, value) : [...shape]
  if (found.length > 3) invalid(`${name} has ${found.length} dimensions, expected [N][C], [N] or [N][C][T]`)
  const data = new Float32Array(found.reduce((a, b) => a * b, 1))
  fill(name, value, found, 'float', data)
  return { data, shape: found }
}

/** Labels a PackedArray holds as they are: class indices written as integers, or finite targets. */
function packedLabels (value: PackedArray, logitsShape: readonly number[]): Labels | undefined {
  const frames = logitsShape[2]
  const indexShape = frames === undefined ? [logitsShape[0] ?? 0] : [logitsShape[0] ?? 0, frames]
  if (logitsShape.length > 1 && sameShape(value.shape, indexShape)) {
    return value.ints === undefined ? undefined : { kind: 'index', data: value.ints, shape: indexShape }
  }
  if (value.finite && sameShape(value.shape, logitsShape)) return { kind: 'dense', data: value.values, shape: [...logitsShape] }
  return undefined
}

export function decodeLabels (value: unknown, logitsShape: readonly number[]): Labels {
  if (value instanceof PackedArray) return packedLabels(value, logitsShape) ?? decodeLabels(value.parse(), logitsShape)
  const n = logitsShape[0] ?? 0
  const frames = logitsShape[2]
  if (!Array.isArray(value)) return invalid(`labels must be an array, got ${describe(value)}`)
  if (value.length !== n) invalid(`labels has ${value.length} rows, expected ${n} (one per row of logits)`)
  const probe = probeShape('labels', value)
  // One dimension fewer than the logits: class indices. Same rank: targets. [N] logits: targets.
  if (logitsShape.length > 1 && probe.length === logitsShape.length - 1) {
    const shape = frames === undefined ? [n] : [n, frames]
    const data = new Int32Array(frames === undefined ? n : n * frames)
    fill('labels', value, shape, 'integer', data)
    return { kind: 'index', data, shape }
  }
  if (probe.length !== logitsShape.length) {
    const expected = logitsShape.length === 1
      ? `[${n}] targets`
      : `class indices [${[n, frames].filter((d) => d !== undefined).join(', ')}] or targets [${logitsShape.join(', ')}]`
    invalid(`labels has ${probe.length} dimensions, expected ${expected}`)
  }
  const { data, shape } = decodeFloats('labels', value, logitsShape)
  return { kind: 'dense', data, shape }
}

export function decodeVector (name: string, value: readonly number[] | undefined): Float32Array | undefined {
  return value === undefined ? undefined : decodeFloats(name, value, [value.length]).data
}

export function decodeInput (body: { logits: unknown, labels: unknown }): LossInput {
  const logits = decodeFloats('logits', body.logits)
  return { logits: logits.data, shape: logits.shape, labels: decodeLabels(body.labels, logits.shape) }
}

/** A flat typed array as nested arrays of `shape`. */
export function nest (values: Float32Array, shape: readonly number[]): unknown[] {
  const flat = Array.from(values)
  if (shape.length <= 1) return flat
  const build = (offset: number, dim: number): unknown[] => {
    const size = shape[dim] ?? 0
    if (dim === shape.length - 1) return flat.slice(offset, offset + size)
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1)
    const out = new Array<unknown>(size)
    for (let i = 0; i < size; i++) out[i] = build(offset + i * stride, dim + 1)
    return out
  }
  return build(0, 0)
}
