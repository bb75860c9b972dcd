/**
 * V2 inference requests <-> the loss core's types. Inputs (JSON `data` or binary bytes) become the
 * same `LossInput` and options the JSON API builds, checked element by element in one pass with
 * messages that name the tensor and index; results become the `loss`, `sum` and `normalizer`
 * output tensors.
 */
import { at, InvalidInputError } from '../errors.js'
import { DEFAULTS } from '../schemas/loss.js'
import type { InferRequest, ModelMetadata, Parameters, ResponseOutput, TensorMetadata } from '../schemas/v2.js'
import type { CrossEntropyOptions, FocalOptions, Labels, LossInput, LossResult } from '../losses/index.js'
import { BinaryReader, typed, type FrameInfo } from './v2-binary.js'

const F32_MAX = 3.4028234663852886e38
const INT32_MAX = 0x7fffffff

const fail = (message: string): never => { throw new InvalidInputError(message) }

/** Element sizes in bytes of every V2 datatype with a fixed size (BYTES has none). */
const SIZES: Readonly<Record<string, number>> = {
  BOOL: 1, UINT8: 1, UINT16: 2, UINT32: 4, UINT64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8, FP16: 2, FP32: 4, FP64: 8
}
const DATATYPES = [...Object.keys(SIZES), 'BYTES']

type Datatype = 'INT32' | 'INT64' | 'FP32' | 'FP64'
const FLOATS: readonly Datatype[] = ['FP32', 'FP64']
const ANY: readonly Datatype[] = ['INT32', 'INT64', 'FP32', 'FP64']

export type ModelName = 'ce' | 'focal'
export const VERSION = '1'

interface InputSpec {
  readonly datatypes: readonly Datatype[]
  readonly required: boolean
  /** What model metadata shows: the most common layout; docs/v2.md lists the others. */
  readonly metadata: Omit<TensorMetadata, 'name'>
}

interface ModelSpec {
  readonly inputs: Readonly<Record<string, InputSpec>>
  readonly parameters: readonly string[]
}

const vector: InputSpec = { datatypes: FLOATS, required: false, metadata: { datatype: 'FP32', shape: [-1] } }
const common = {
  logits: { datatypes: FLOATS, required: true, metadata: { datatype: 'FP32', shape: [-1, -1] } },
  labels: { datatypes: ANY, required: true, metadata: { datatype: 'INT64', shape: [-1] } }
} satisfies Record<string, InputSpec>
const commonParameters = ['activation', 'reduction', 'ignore_index', 'label_smoothing']

export const MODELS: Readonly<Record<ModelName, ModelSpec>> = {
  ce: { inputs: { ...common, weight: vector, pos_weight: vector }, parameters: commonParameters },
  focal: { inputs: { ...common, alpha: vector }, parameters: [...commonParameters, 'gamma', 'alpha'] }
}

export function isModel (name: string): name is ModelName {
  return Object.hasOwn(MODELS, name)
}

const OUTPUTS = ['loss', 'sum', 'normalizer'] as const
type OutputName = typeof OUTPUTS[number]

export function modelMetadata (name: ModelName): ModelMetadata {
  return {
    name,
    versions: [VERSION],
    platform: 'tfjs_loss',
    inputs: Object.entries(MODELS[name].inputs).map(([input, spec]) => ({ name: input, ...spec.metadata })),
    outputs: [
      { name: 'loss', datatype: 'FP64', shape: [-1] },
      { name: 'sum', datatype: 'FP64', shape: [1] },
      { name: 'normalizer', datatype: 'FP64', shape: [1] }
    ]
  }
}

/** Parameters the protocol or its clients define; accepted and ignored here. */
const PROTOCOL_PARAMETERS = new Set(['binary_data_output', 'sequence_id', 'sequence_start', 'sequence_end', 'priority', 'timeout', 'headers', 'content_type'])

/** One input as sent, before its values are read. */
interface RawInput {
  readonly label: string
  readonly name: string
  readonly shape: readonly number[]
  readonly datatype: Datatype
  readonly data: unknown
  readonly bytes: Buffer | undefined
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`

function describe (v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)
  if (Array.isArray(v)) return 'an array'
  if (v === null) return 'null'
  return typeof v === 'object' ? 'an object' : String(v)
}

function gather (model: ModelName, inputs: InferRequest['inputs'], binary: Buffer, jsonLength: number): Map<string, RawInput> {
  const spec = MODELS[model]
  const reader = new BinaryReader(binary)
  const found = new Map<string, RawInput>()
  inputs.forEach((input, i) => {
    const label = `inputs[${i}] (${input.name})`
    const inputSpec = Object.hasOwn(spec.inputs, input.name) ? spec.inputs[input.name] : undefined
    if (inputSpec === undefined) fail(`${label} is not an input of model ${model}; it takes ${Object.keys(spec.inputs).join(', ')}`)
    if (found.has(input.name)) fail(`${label}: input ${input.name} is given twice`)
    const allowed = (inputSpec as InputSpec).datatypes
    const datatype = input.datatype as Datatype
    if (!allowed.includes(datatype)) {
      fail(DATATYPES.includes(input.datatype)
        ? `${label} has datatype ${input.datatype}, which ${input.name} does not support; send ${allowed.join(' or ')}`
        : `${label} has datatype ${JSON.stringify(input.datatype)}, which is not a V2 datatype (${DATATYPES.join(', ')})`)
    }
    const count = input.shape.reduce((a, b) => a * b, 1)
    if (!Number.isSafeInteger(count)) fail(`${label} has shape ${shapeText(input.shape)}, too many values`)
    const parameters = input.parameters ?? {}
    for (const key of Object.keys(parameters)) {
      if (key !== 'binary_data_size') fail(`${label}: parameters.${key} is not a known input parameter; the only one is binary_data_size`)
    }
    const size = parameters.binary_data_size
    let bytes: Buffer | undefined
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        fail(`${label}: parameters.binary_data_size = ${describe(size)} must be a non-negative integer`)
      }
      if (input.data !== undefined) fail(`${label} has both data and parameters.binary_data_size; send one`)
      const expected = count * (SIZES[datatype] ?? 0)
      if (size !== expected) {
        fail(`${label}: binary_data_size = ${String(size)}, but shape ${shapeText(input.shape)} of ${datatype} is ${expected} bytes`)
      }
      bytes = reader.take(label, expected)
    } else if (input.data === undefined) {
      fail(`${label} has neither data nor parameters.binary_data_size`)
    } else if (count > jsonLength) {
      // Checked before anything of that size is allocated: each JSON value takes at least a byte.
      fail(`${label} has shape ${shapeText(input.shape)}, more values than the JSON header holds`)
    }
    found.set(input.name, { label, name: input.name, shape: input.shape, datatype, data: input.data, bytes })
  })
  reader.finish()
  for (const [name, inputSpec] of Object.entries(spec.inputs)) {
    if (inputSpec.required && !found.has(name)) fail(`input ${name} is required`)
  }
  return found
}

type Kind = 'float' | 'index'

/** Row-major JSON data, flat or nested exactly as `shape`, into `out`, checking each value. */
function fillJson (raw: RawInput, kind: Kind, out: Float32Array | Int32Array): void {
  const { name, shape, data, label } = raw
  const count = out.length
  const put = (x: unknown, k: number): void => {
    if (typeof x !== 'number') fail(`${at(name, k, shape)} = ${describe(x)} is not a number`)
    else if (kind === 'float' ? !(Math.abs(x) <= F32_MAX) : !(Number.isInteger(x) && Math.abs(x) <= INT32_MAX)) {
      fail(`${at(name, k, shape)} = ${x} ${kind === 'float' ? 'is not a finite float32 value' : 'is not an integer class index'}`)
    }
    out[k] = x as number
  }
  if (!Array.isArray(data)) return fail(`${label}: data must be an array, got ${describe(data)}`)
  if (shape.length <= 1 || !Array.isArray(data[0])) {
    if (data.length !== count) fail(`${label}: data has ${data.length} values, but shape ${shapeText(shape)} needs ${count}`)
    for (let k = 0; k < count; k++) put(data[k], k)
    return
  }
  let k = 0
  const walk = (v: unknown, dim: number, path: string): void => {
    const size = shape[dim] ?? 0
    if (!Array.isArray(v) || v.length !== size) {
      fail(`${label}: data${path} ${Array.isArray(v) ? `has ${v.length} values` : `is ${describe(v)}`}, expected ${size} ${dim === shape.length - 1 ? 'numbers' : 'arrays'} (shape ${shapeText(shape)})`)
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
function readFloats (raw: RawInput): Float32Array {
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
      if (!(Math.abs(x) <= F32_MAX)) fail(`${at(name, k, shape)} = ${x} is not a finite float32 value`)
    }
    return out
  }
  const wide = typed(bytes, Float64Array)
  const out = new Float32Array(wide.length)
  for (let k = 0; k < wide.length; k++) {
    const x = wide[k] as number
    if (!(Math.abs(x) <= F32_MAX)) fail(`${at(name, k, shape)} = ${x} is not a finite float32 value`)
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
      fail(`${at(name, k, shape)} = ${value} is not an integer class index`)
    }
    out[k] = low
  }
  return out
}

function readVector (raw: RawInput | undefined): Float32Array | undefined {
  if (raw === undefined) return undefined
  if (raw.shape.length !== 1) fail(`${raw.label} has shape ${shapeText(raw.shape)}; it must be a vector [C], one value per class`)
  return readFloats(raw)
}

function readLabels (raw: RawInput, logitsShape: readonly number[]): Labels {
  // As in the JSON API: one dimension fewer than the logits means class indices.
  const index = logitsShape.length > 1 && raw.shape.length === logitsShape.length - 1
  if (!index) return { kind: 'dense', data: readFloats(raw), shape: raw.shape }
  if (raw.datatype !== 'INT32' && raw.datatype !== 'INT64') {
    fail(`${raw.label} of shape ${shapeText(raw.shape)} holds class indices for logits ${shapeText(logitsShape)}: send datatype INT32 or INT64 ` +
      `(or targets of shape ${shapeText(logitsShape)})`)
  }
  return { kind: 'index', data: readIndices(raw), shape: raw.shape }
}

interface OutputRequest {
  readonly name: OutputName
  readonly binary: boolean
}

export interface DecodedInfer {
  readonly input: LossInput
  readonly outputs: readonly OutputRequest[]
}

export interface DecodedCrossEntropy extends DecodedInfer {
  readonly model: 'ce'
  readonly options: CrossEntropyOptions
}

export interface DecodedFocal extends DecodedInfer {
  readonly model: 'focal'
  readonly options: FocalOptions
}

function stringParam<T extends string> (parameters: Parameters, key: string, allowed: readonly T[], fallback: T): T {
  const value = parameters[key]
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    return fail(`parameters.${key} = ${describe(value)} must be ${allowed.map((a) => `"${a}"`).join(' or ')}`)
  }
  return value as T
}

function numberParam (parameters: Parameters, key: string, fallback: number, integer = false): number {
  const value = parameters[key]
  if (value === undefined) return fallback
  if (typeof value !== 'number' || (integer && !Number.isSafeInteger(value))) {
    return fail(`parameters.${key} = ${describe(value)} must be ${integer ? 'an integer' : 'a number'}`)
  }
  return value
}

function booleanParam (parameters: Parameters | undefined, key: string, where: string): boolean | undefined {
  const value = parameters?.[key]
  if (value === undefined || typeof value === 'boolean') return value
  return fail(`${where}parameters.${key} = ${describe(value)} must be true or false`)
}

function outputRequests (request: InferRequest): OutputRequest[] {
  const all = booleanParam(request.parameters, 'binary_data_output', '') ?? false
  if (request.outputs === undefined) return OUTPUTS.map((name) => ({ name, binary: all }))
  const seen = new Set<string>()
  return request.outputs.map((output, i) => {
    const where = `outputs[${i}] (${output.name})`
    if (!(OUTPUTS as readonly string[]).includes(output.name)) fail(`${where} is not an output; the outputs are ${OUTPUTS.join(', ')}`)
    if (seen.has(output.name)) fail(`${where}: output ${output.name} is requested twice`)
    seen.add(output.name)
    for (const key of Object.keys(output.parameters ?? {})) {
      if (key !== 'binary_data') fail(`${where}: parameters.${key} is not supported; the only output parameter is binary_data`)
    }
    return { name: output.name as OutputName, binary: booleanParam(output.parameters, 'binary_data', `${where}: `) ?? all }
  })
}

/**
 * A V2 request as the loss core's input and options. `frame` tells how long the JSON header was and
 * holds the bytes after it. Option checks the core makes (ranges, vector lengths) stay in the core.
 */
export function decodeInfer (model: ModelName, request: InferRequest, frame: FrameInfo): DecodedCrossEntropy | DecodedFocal {
  const parameters = request.parameters ?? {}
  const spec = MODELS[model]
  for (const key of Object.keys(parameters)) {
    if (!spec.parameters.includes(key) && !PROTOCOL_PARAMETERS.has(key) && !key.startsWith('triton_')) {
      fail(`parameters.${key} is not a parameter of model ${model}; it takes ${spec.parameters.join(', ')} (and binary_data_output)`)
    }
  }
  const outputs = outputRequests(request)
  const raw = gather(model, request.inputs, frame.binary, frame.jsonLength)
  const logitsRaw = raw.get('logits') as RawInput
  const labelsRaw = raw.get('labels') as RawInput
  if (logitsRaw.shape.length < 1 || logitsRaw.shape.length > 3) {
    fail(`${logitsRaw.label} has shape ${shapeText(logitsRaw.shape)}; logits are [N, C], [N] or [N, C, T]`)
  }
  const logits = readFloats(logitsRaw)
  const input: LossInput = { logits, shape: logitsRaw.shape, labels: readLabels(labelsRaw, logitsRaw.shape) }
  const common = {
    activation: stringParam(parameters, 'activation', ['softmax', 'sigmoid'], DEFAULTS.activation),
    reduction: stringParam(parameters, 'reduction', ['mean', 'sum', 'none'], DEFAULTS.reduction),
    ignoreIndex: numberParam(parameters, 'ignore_index', DEFAULTS.ignoreIndex, true),
    labelSmoothing: numberParam(parameters, 'label_smoothing', DEFAULTS.labelSmoothing)
  }
  if (model === 'ce') {
    return {
      model,
      input,
      outputs,
      options: { ...common, weight: readVector(raw.get('weight')), posWeight: readVector(raw.get('pos_weight')) }
    }
  }
  const alphaVector = readVector(raw.get('alpha'))
  if (alphaVector !== undefined && parameters.alpha !== undefined) fail('alpha is given both as an input and as parameters.alpha; send one')
  // Parameters cannot be null: torchvision's own "no balancing" value, -1, stands for it.
  const alphaScalar = numberParam(parameters, 'alpha', DEFAULTS.alpha)
  const alpha = alphaVector ?? (alphaScalar === -1 ? null : alphaScalar)
  return { model, input, outputs, options: { ...common, gamma: numberParam(parameters, 'gamma', DEFAULTS.gamma), alpha } }
}

/** The core names options as the JSON API does; V2 spells them as its parameters and inputs. */
export function v2Names (message: string): string {
  return message
    .replace(/\bposWeight\b/g, 'pos_weight')
    .replace(/\blabelSmoothing\b/g, 'label_smoothing')
    .replace(/\bignoreIndex\b/g, 'ignore_index')
    .replace(/^alpha = (\S+) is outside \[0, 1\]$/, 'parameters.alpha = $1 is outside [0, 1] (or -1 for no balancing)')
}

export interface EncodedOutputs {
  readonly outputs: ResponseOutput[]
  /** The bytes of the binary outputs, in the order they appear in `outputs`. */
  readonly binary: Buffer[]
}

/**
 * The result as FP64 tensors: `sum` and a reduced `loss` are float64 sums, and widening the float32
 * `none` values is exact, so every number equals the JSON API's (-0 included, written as 0). A mean
 * over nothing is NaN in binary and null in JSON, where NaN cannot be written.
 */
export function encodeOutputs (result: LossResult, requested: readonly OutputRequest[]): EncodedOutputs {
  const outputs: ResponseOutput[] = []
  const binary: Buffer[] = []
  for (const { name, binary: asBinary } of requested) {
    const { values, shape } = tensorOf(result, name)
    if (asBinary) {
      const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength)
      outputs.push({ name, datatype: 'FP64', shape, parameters: { binary_data_size: bytes.length } })
      binary.push(bytes)
    } else {
      const data = Array.from(values, (v) => Number.isNaN(v) ? null : v)
      outputs.push({ name, datatype: 'FP64', shape, data })
    }
  }
  return { outputs, binary }
}

/** float32 to float64, -0 as 0: what the JSON API prints, since JSON has no -0. */
function widen (values: Float32Array): Float64Array {
  const out = new Float64Array(values.length)
  for (let k = 0; k < values.length; k++) out[k] = (values[k] as number) + 0
  return out
}

function tensorOf (result: LossResult, name: OutputName): { values: Float64Array, shape: number[] } {
  switch (name) {
    case 'loss':
      return result.reduction === 'none'
        ? { values: widen(result.values), shape: [...result.valuesShape] }
        : { values: Float64Array.of((result.loss ?? NaN) + 0), shape: [1] }
    case 'sum':
      return { values: Float64Array.of(result.sum), shape: [1] }
    case 'normalizer':
      return { values: Float64Array.of(result.normalizer), shape: [1] }
  }
}
