/**
 * V2 input tensors as typed arrays: JSON `data` (flat or nested) or binary bytes, every value checked
 * in the same pass, messages naming the tensor and the index.
 */
import { at, invalid } from '../../errors.js'
import type { Labels } from '../../losses/index.js'
import type { InferRequest } from '../../../schemas/v2.js'
import { BinaryReader, typed } from './binary.js'
import { DATATYPES, MODELS, SIZES, type Datatype, type InputSpec, type ModelName } from './models.js'

const F32_MAX = 3.4028234663852886e38
const INT32_MAX = 0x7fffffff

/** One input as sent, before its values are read. */
export interface RawInput {
  readonly label: string
  readonly name: string
  readonly shape: readonly number[]
  readonly datatype: Datatype
  readonly data: unknown
  readonly bytes: Buffer | undefined
}

export const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`

export function describe (v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)
  if (Array.isArray(v)) return 'an array'
  if (v === null) return 'null'
  return typeof v === 'object' ? 'an object' : String(v)
}

export function gather (model: ModelName, inputs: InferRequest['inputs'], binary: Buffer, jsonLength: number): Map<string, RawInput> {
  const spec = MODELS[model]
  const reader = new BinaryReader(binary)
  const found = new Map<string, RawInput>()
  inputs.forEach((input, i) => {
    const label = `inputs[${i}] (${input.name})`
    const inputSpec = Object.hasOwn(spec.inputs, input.name) ? spec.inputs[input.name] : undefined
    if (inputSpec === undefined) invalid(`${label} is not an input of model ${model}; it takes ${Object.keys(spec.inputs).join(', ')}`)
    if (found.has(input.name)) invalid(`${label}: input ${input.name} is given twice`)
    const allowed = (inputSpec as InputSpec).datatypes
    const datatype = input.datatype as Datatype
    if (!allowed.includes(datatype)) {
      invalid(DATATYPES.includes(input.datatype)
        ? `${label} has datatype ${input.datatype}, which ${input.name} does not support; send ${allowed.join(' or ')}`
        : `${label} has datatype ${JSON.stringify(input.datatype)}, which is not a V2 datatype (${DATATYPES.join(', ')})`)
    }
    const count = input.shape.reduce((a, b) => a * b, 1)
    if (!Number.isSafeInteger(count)) invalid(`${label} has shape ${shapeText(input.shape)}, too many values`)
    const parameters = input.parameters ?? {}
    for (const key of Object.keys(parameters)) {
      if (key !== 'binary_data_size') invalid(`${label}: parameters.${key} is not a known input parameter; the only one is binary_data_size`)
    }
    const size = parameters.binary_data_size
    let bytes: Buffer | undefined
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        invalid(`${label}: parameters.binary_data_size = ${describe(size)} must be a non-negative integer`)
      }
      if (input.data !== undefined) invalid(`${label} has both data and parameters.binary_data_size; send one`)
      const expected = count * (SIZES[datatype] ?? 0)
      if (size !== expected) {
        invalid(`${label}: binary_data_size = ${String(size)}, but shape ${shapeText(input.shape)} of ${datatype} is ${expected} bytes`)
      }
      bytes = reader.take(label, expected)
    } else if (input.data === undefined) {
      invalid(`${label} has neither data nor parameters.binary_data_size`)
    } else if (count > jsonLength) {
      // Checked before anything of that size is allocated: each JSON value takes at least a byte.
      invalid(`${label} has shape ${shapeText(input.shape)}, more values than the JSON header holds`)
    }
    found.set(input.name, { label, name: input.name, shape: input.shape, datatype, data: input.data, bytes })
  })
  reader.finish()
  for (const [name, inputSpec] of Object.entries(spec.inputs)) {
    if (inputSpec.required && !found.has(name)) invalid(`input ${name} is required`)
  }
  return found
}

type Kind = 'float' | 'index' | 'finite' | 'integer'

/** What each kind of value must be, and what the message says when it is not. */
const CHECKS: Readonly<Record<Kind, readonly [(x: number) => boolean, string]>> = {
  float: [(x) => Math.abs(x) <= F32_MAX, 'is not a finite float32 value'],
  index: [(x) => Number.isInteger(x) && Math.abs(x) <= INT32_MAX, 'is not an integer class index'],
  finite: [Number.isFinite, 'is not a finite number'],
  integer: [Number.isSafeInteger, 'is not an integer in [-(2^53 - 1), 2^53 - 1]']
}

/** Row-major JSON data, flat or nested exactly as `shape`, into `out`, checking each value. */
function fillJson (raw: RawInput, kind: Kind, out: Float32Array | Int32Array | Float64Array): void {
  const { name, shape, data, label } = raw
  const count = out.length
  const [valid, problem] = CHECKS[kind]
  const put = (x: unknown, k: number): void => {
    if (typeof x !== 'number') invalid(`${at(name, k, shape)} = ${describe(x)} is not a number`)
    else if (!valid(x)) invalid(`${at(name, k, shape)} = ${x} ${problem}`)
    out[k] = x as number
  }
  if (!Array.isArray(data)) return invalid(`${label}: data must be an array, got ${describe(data)}`)
  if (shape.length <= 1 || !Array.isArray(data[0])) {
    if (data.length !== count) invalid(`${label}: data has ${data.length} values, but shape ${shapeText(shape)} needs ${count}`)
    for (let k = 0; k < count; k++) put(data[k], k)
    return
  }
  let k = 0
  const walk = (v: unknown, dim: number, path: string): void => {
    const size = shape[dim] ?? 0
    if (!Array.isArray(v) || v.length !== size) {
      invalid(`${label}: data${path} ${Array.isArray(v) ? `has ${v.length} values` : `is ${describe(v)}`}, expected ${size} ${dim === shape.length - 1 ? 'numbers' : 'arrays'} (shape ${shapeText(shape)})`)
    }
    const row = v as unknown[]
    if (dim === shape.length - 1) {
      for (let i = 0; i < size; i++) put(row[i], k++)
      return
    }
    for (let i = 0; i < size; i++) walk(row[i], dim + 1, `${path}[${i}]`)
  }
  walk(data, 0, '')
}

/** FP32/FP64 (or integer targets) as float32, each finite and in float32 range. */
export function readFloats (raw: RawInput): Float32Array {
  const { bytes, datatype, name, shape } = raw
  const count = shape.reduce((a, b) => a * b, 1)
  if (datatype === 'INT32' || datatype === 'INT64') return Float32Array.from(readIndices(raw))
  if (bytes === undefined) {
    const out = new Float32Array(count)
    fillJson(raw, 'float', out)
    return out
  }
  if (datatype === 'FP32') {
    const out = typed(bytes, Float32Array)
    for (let k = 0; k < out.length; k++) {
      const x = out[k] as number
      if (!(Math.abs(x) <= F32_MAX)) invalid(`${at(name, k, shape)} = ${x} is not a finite float32 value`)
    }
    return out
  }
  const wide = typed(bytes, Float64Array)
  const out = new Float32Array(wide.length)
  for (let k = 0; k < wide.length; k++) {
    const x = wide[k] as number
    if (!(Math.abs(x) <= F32_MAX)) invalid(`${at(name, k, shape)} = ${x} is not a finite float32 value`)
    out[k] = x
  }
  return out
}

/** INT32/INT64 as int32 class indices; an INT64 value must fit in int32. */
function readIndices (raw: RawInput): Int32Array {
  const { bytes, datatype, name, shape } = raw
  const count = shape.reduce((a, b) => a * b, 1)
  if (bytes === undefined) {
    const out = new Int32Array(count)
    fillJson(raw, 'index', out)
    return out
  }
  if (datatype === 'INT32') return typed(bytes, Int32Array)
  // Little-endian int64 as (low, high) int32 pairs: it fits in int32 exactly when the high word is
  // the low word's sign extension. No BigInt per element.
  const words = typed(bytes, Int32Array)
  const out = new Int32Array(count)
  for (let k = 0; k < count; k++) {
    const low = words[2 * k] as number
    const high = words[2 * k + 1] as number
    if (high !== low >> 31) {
      const value = (BigInt(high) << 32n) + BigInt(low >>> 0)
      invalid(`${at(name, k, shape)} = ${value} is not an integer class index`)
    }
    out[k] = low
  }
  return out
}

function checkVector (raw: RawInput): void {
  if (raw.shape.length !== 1) invalid(`${raw.label} has shape ${shapeText(raw.shape)}; it must be a vector [C], one value per class`)
}

export function readVector (raw: RawInput | undefined): Float32Array | undefined {
  if (raw === undefined) return undefined
  checkVector(raw)
  return readFloats(raw)
}

/**
 * `class_counts` as doubles, as the JSON API reads `classBalance.counts`: FP64 and INT64 counts are
 * not rounded to float32 on the way. Whether each is > 0 is checked where the weights are computed.
 */
export function readCounts (raw: RawInput): number[] {
  checkVector(raw)
  if (raw.datatype === 'FP32') return Array.from(readFloats(raw))
  const { bytes, datatype, name, shape } = raw
  const kind = datatype === 'INT64' ? 'integer' : 'finite'
  if (bytes === undefined) {
    const out = new Float64Array(shape[0] ?? 0)
    fillJson(raw, kind, out)
    return Array.from(out)
  }
  const [valid, problem] = CHECKS[kind]
  const values: ArrayLike<number | bigint> = datatype === 'INT64' ? typed(bytes, BigInt64Array) : typed(bytes, Float64Array)
  return Array.from(values, (v, k) => {
    const x = Number(v)
    if (!valid(x)) invalid(`${at(name, k, shape)} = ${String(v)} ${problem}`)
    return x
  })
}

export function readLabels (raw: RawInput, logitsShape: readonly number[]): Labels {
  // As in the JSON API: one dimension fewer than the logits means class indices.
  const index = logitsShape.length > 1 && raw.shape.length === logitsShape.length - 1
  if (!index) return { kind: 'dense', data: readFloats(raw), shape: raw.shape }
  if (raw.datatype !== 'INT32' && raw.datatype !== 'INT64') {
    invalid(`${raw.label} of shape ${shapeText(raw.shape)} holds class indices for logits ${shapeText(logitsShape)}: send datatype INT32 or INT64 ` +
      `(or targets of shape ${shapeText(logitsShape)})`)
  }
  return { kind: 'index', data: readIndices(raw), shape: raw.shape }
}
