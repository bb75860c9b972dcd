/**
 * V2 inference requests <-> the loss core's types. Inputs (JSON `data` or binary bytes) become the
 * same `LossInput`, options and analysis the JSON API builds, checked element by element in one pass
 * with messages that name the tensor and index; results become output tensors: `loss`, `sum` and
 * `normalizer`, and when asked the per-class totals, the hardest rows and the class-balanced weights,
 * from the same functions the JSON API calls.
 */
import { at, InvalidInputError } from '../errors.js'
import { DEFAULTS } from '../losses/defaults.js'
import type { InferRequest, ModelMetadata, Parameters, ResponseOutput, TensorMetadata } from '../../schemas/v2.js'
import {
  classBalancedFocal, crossEntropyOptionsOf, focalOptionsOf, hardest, perClass,
  type ClassTotals, type CommonOptions, type Comparison, type CrossEntropyOptions, type FocalOptions, type HardRow, type Labels, type LossInput, type LossResult
} from '../losses/index.js'
import { classWeights, type Analysis } from './json.js'
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
// Sample counts: numpy's bincount gives INT64; the JSON API takes any positive number.
const COUNTS: readonly Datatype[] = ['INT64', 'FP32', 'FP64']

export type ModelName = 'ce' | 'focal' | 'compare'
export const VERSION = '1'

interface InputSpec {
  readonly datatypes: readonly Datatype[]
  readonly required: boolean
  /** What model metadata shows: the most common layout; the README's V2 section lists the others. */
  readonly metadata: Omit<TensorMetadata, 'name'>
}

/** What an output needs the request to ask for before it exists. */
type Need = 'breakdown' | 'hardest' | 'class_counts'

type OutputDatatype = 'FP64' | 'FP32' | 'INT64'

type Field = 'loss' | 'sum' | 'normalizer' | 'per_class_count' | 'per_class_sum' | 'per_class_mean' |
  'hardest_index' | 'hardest_label' | 'hardest_loss' | 'class_weights'

/** Model compare's two losses; its outputs of one loss are named `<loss>_<field>`. */
type LossName = 'ce' | 'focal'

interface OutputSpec {
  readonly name: string
  readonly field: Field
  /** compare: the loss the output belongs to; undefined for ce, focal and what both losses share. */
  readonly of: LossName | undefined
  readonly datatype: OutputDatatype
  /** What model metadata shows; `hardest_index` is [k, 2] for temporal input. */
  readonly shape: readonly number[]
  readonly needs: Need | undefined
}

// class_weights are FP32: the float32 values the kernels used, which the JSON API echoes as they are.
const FIELDS: Readonly<Record<Field, readonly [OutputDatatype, readonly number[], Need | undefined]>> = {
  loss: ['FP64', [-1], undefined],
  sum: ['FP64', [1], undefined],
  normalizer: ['FP64', [1], undefined],
  per_class_count: ['FP64', [-1], 'breakdown'],
  per_class_sum: ['FP64', [-1], 'breakdown'],
  per_class_mean: ['FP64', [-1], 'breakdown'],
  hardest_index: ['INT64', [-1], 'hardest'],
  hardest_label: ['INT64', [-1], 'hardest'],
  hardest_loss: ['FP64', [-1], 'hardest'],
  class_weights: ['FP32', [-1], 'class_counts']
}

function output (field: Field, of?: LossName): OutputSpec {
  const [datatype, shape, needs] = FIELDS[field]
  return { name: of === undefined ? field : `${of}_${field}`, field, of, datatype, shape, needs }
}

const LOSS_FIELDS: readonly Field[] = ['loss', 'sum', 'normalizer']
const PER_CLASS_FIELDS: readonly Field[] = ['per_class_sum', 'per_class_mean']
const HARDEST_FIELDS: readonly Field[] = ['hardest_index', 'hardest_label', 'hardest_loss']
const oneLoss = [...LOSS_FIELDS, 'per_class_count' as const, ...PER_CLASS_FIELDS, ...HARDEST_FIELDS, 'class_weights' as const].map((field) => output(field))
const both = (fields: readonly Field[]): OutputSpec[] => [...fields.map((f) => output(f, 'ce')), ...fields.map((f) => output(f, 'focal'))]

interface ModelSpec {
  readonly inputs: Readonly<Record<string, InputSpec>>
  readonly parameters: readonly string[]
  /** Every output, in the order a request without `outputs` gets those it asked for. */
  readonly outputs: readonly OutputSpec[]
}

const vector: InputSpec = { datatypes: FLOATS, required: false, metadata: { datatype: 'FP32', shape: [-1] } }
const common = {
  logits: { datatypes: FLOATS, required: true, metadata: { datatype: 'FP32', shape: [-1, -1] } },
  labels: { datatypes: ANY, required: true, metadata: { datatype: 'INT64', shape: [-1] } }
} satisfies Record<string, InputSpec>
const classCounts: InputSpec = { datatypes: COUNTS, required: false, metadata: { datatype: 'INT64', shape: [-1] } }
const commonParameters = ['activation', 'reduction', 'ignore_index', 'label_smoothing']
const analysisParameters = ['breakdown', 'hardest', 'class_balance_beta']

export const MODELS: Readonly<Record<ModelName, ModelSpec>> = {
  ce: {
    inputs: { ...common, weight: vector, pos_weight: vector, class_counts: classCounts },
    parameters: [...commonParameters, ...analysisParameters],
    outputs: oneLoss
  },
  focal: {
    inputs: { ...common, alpha: vector, class_counts: classCounts },
    parameters: [...commonParameters, 'gamma', 'alpha', ...analysisParameters],
    outputs: oneLoss
  },
  compare: {
    inputs: { ...common, weight: vector, pos_weight: vector, alpha: vector, class_counts: classCounts },
    parameters: [...commonParameters, 'gamma', 'alpha', ...analysisParameters],
    outputs: [
      ...both(LOSS_FIELDS), output('per_class_count'), ...both(PER_CLASS_FIELDS), ...both(HARDEST_FIELDS), output('class_weights')
    ]
  }
}

export function isModel (name: string): name is ModelName {
  return Object.hasOwn(MODELS, name)
}

export function modelMetadata (name: ModelName): ModelMetadata {
  return {
    name,
    versions: [VERSION],
    platform: 'tfjs_loss',
    inputs: Object.entries(MODELS[name].inputs).map(([input, spec]) => ({ name: input, ...spec.metadata })),
    outputs: MODELS[name].outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape: [...shape] }))
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
    if (typeof x !== 'number') fail(`${at(name, k, shape)} = ${describe(x)} is not a number`)
    else if (!valid(x)) fail(`${at(name, k, shape)} = ${x} ${problem}`)
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

function checkVector (raw: RawInput): void {
  if (raw.shape.length !== 1) fail(`${raw.label} has shape ${shapeText(raw.shape)}; it must be a vector [C], one value per class`)
}

function readVector (raw: RawInput | undefined): Float32Array | undefined {
  if (raw === undefined) return undefined
  checkVector(raw)
  return readFloats(raw)
}

/**
 * `class_counts` as doubles, as the JSON API reads `classBalance.counts`: FP64 and INT64 counts are
 * not rounded to float32 on the way. Whether each is > 0 is checked where the weights are computed.
 */
function readCounts (raw: RawInput): number[] {
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
    if (!valid(x)) fail(`${at(name, k, shape)} = ${String(v)} ${problem}`)
    return x
  })
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
  readonly spec: OutputSpec
  readonly binary: boolean
}

interface DecodedInfer {
  readonly input: LossInput
  readonly analysis: Analysis
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

export interface DecodedCompare extends DecodedInfer {
  readonly model: 'compare'
  readonly ce: CrossEntropyOptions
  readonly focal: FocalOptions
}

export type Decoded = DecodedCrossEntropy | DecodedFocal | DecodedCompare

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

const NEEDS: Readonly<Record<Need, string>> = {
  breakdown: 'parameters.breakdown = true',
  hardest: 'parameters.hardest = k, the number of rows to list',
  class_counts: 'the input class_counts and parameters.class_balance_beta'
}

/**
 * The outputs to return: without `outputs`, every output of the model the request asked for (the
 * analysis ones only with their parameter or input); with it, the ones named, in its order.
 */
function outputRequests (model: ModelName, request: InferRequest, asked: ReadonlySet<Need>): OutputRequest[] {
  const all = booleanParam(request.parameters, 'binary_data_output', '') ?? false
  const specs = MODELS[model].outputs
  if (request.outputs === undefined) {
    return specs.filter((spec) => spec.needs === undefined || asked.has(spec.needs)).map((spec) => ({ spec, binary: all }))
  }
  const seen = new Set<string>()
  return request.outputs.map((output, i) => {
    const where = `outputs[${i}] (${output.name})`
    const spec = specs.find((s) => s.name === output.name)
    if (spec === undefined) return fail(`${where} is not an output of model ${model}; the outputs are ${specs.map((s) => s.name).join(', ')}`)
    if (spec.needs !== undefined && !asked.has(spec.needs)) fail(`${where} needs ${NEEDS[spec.needs]}`)
    if (seen.has(output.name)) fail(`${where}: output ${output.name} is requested twice`)
    seen.add(output.name)
    for (const key of Object.keys(output.parameters ?? {})) {
      if (key !== 'binary_data') fail(`${where}: parameters.${key} is not supported; the only output parameter is binary_data`)
    }
    return { spec, binary: booleanParam(output.parameters, 'binary_data', `${where}: `) ?? all }
  })
}

/** Runs `decode`, answering the core's and the JSON API's messages in V2's names. */
export function inV2Names<T> (decode: () => T): T {
  try {
    return decode()
  } catch (err) {
    if (err instanceof InvalidInputError) throw new InvalidInputError(v2Names(err.message))
    throw err
  }
}

/**
 * `class_counts` and `parameters.class_balance_beta` as the JSON API's `classBalance`, through its
 * own `classWeights`: the same exclusion of weight and alpha, the same float32 weights.
 */
function balancedWeights (raw: ReadonlyMap<string, RawInput>, parameters: Parameters, shape: readonly number[]): Float32Array | undefined {
  const counts = raw.get('class_counts')
  const beta = parameters.class_balance_beta
  if (counts === undefined) {
    if (beta !== undefined) fail('parameters.class_balance_beta needs the input class_counts, the training samples per class')
    return undefined
  }
  if (beta === undefined) fail(`${counts.label} needs parameters.class_balance_beta, β in [0, 1)`)
  const classBalance = { counts: readCounts(counts), beta: numberParam(parameters, 'class_balance_beta', 0) }
  return inV2Names(() => classWeights({ classBalance, weight: raw.get('weight'), alpha: raw.get('alpha') ?? parameters.alpha }, shape))
}

function focalOptions (common: CommonOptions, parameters: Parameters, alphaRaw: RawInput | undefined, balanced: Float32Array | undefined): FocalOptions {
  const gamma = numberParam(parameters, 'gamma', DEFAULTS.gamma)
  if (balanced !== undefined) return classBalancedFocal(common, gamma, balanced)
  const alphaVector = readVector(alphaRaw)
  if (alphaVector !== undefined && parameters.alpha !== undefined) fail('alpha is given both as an input and as parameters.alpha; send one')
  // Parameters cannot be null: torchvision's own "no balancing" value, -1, stands for it.
  const alphaScalar = numberParam(parameters, 'alpha', DEFAULTS.alpha)
  return focalOptionsOf(common, gamma, alphaVector ?? (alphaScalar === -1 ? null : alphaScalar))
}

/**
 * A V2 request as the loss core's input, options and analysis. `frame` tells how long the JSON header
 * was and holds the bytes after it. Option checks the core makes (ranges, vector lengths, `hardest`
 * against the number of rows) stay in the core.
 */
export function decodeInfer (model: ModelName, request: InferRequest, frame: FrameInfo): Decoded {
  const parameters = request.parameters ?? {}
  const spec = MODELS[model]
  for (const key of Object.keys(parameters)) {
    if (!spec.parameters.includes(key) && !PROTOCOL_PARAMETERS.has(key) && !key.startsWith('triton_')) {
      fail(`parameters.${key} is not a parameter of model ${model}; it takes ${spec.parameters.join(', ')} (and binary_data_output)`)
    }
  }
  const breakdown = booleanParam(parameters, 'breakdown', '') ?? false
  const k = parameters.hardest === undefined ? undefined : numberParam(parameters, 'hardest', 0, true)
  const raw = gather(model, request.inputs, frame.binary, frame.jsonLength)
  const asked = new Set<Need>()
  if (breakdown) asked.add('breakdown')
  if (k !== undefined) asked.add('hardest')
  if (raw.has('class_counts')) asked.add('class_counts')
  const outputs = outputRequests(model, request, asked)
  const logitsRaw = raw.get('logits') as RawInput
  const labelsRaw = raw.get('labels') as RawInput
  if (logitsRaw.shape.length < 1 || logitsRaw.shape.length > 3) {
    fail(`${logitsRaw.label} has shape ${shapeText(logitsRaw.shape)}; logits are [N, C], [N] or [N, C, T]`)
  }
  const logits = readFloats(logitsRaw)
  const input: LossInput = { logits, shape: logitsRaw.shape, labels: readLabels(labelsRaw, logitsRaw.shape) }
  const balanced = balancedWeights(raw, parameters, input.shape)
  const common = {
    activation: stringParam(parameters, 'activation', ['softmax', 'sigmoid'], DEFAULTS.activation),
    reduction: stringParam(parameters, 'reduction', ['mean', 'sum', 'none'], DEFAULTS.reduction),
    ignoreIndex: numberParam(parameters, 'ignore_index', DEFAULTS.ignoreIndex, true),
    labelSmoothing: numberParam(parameters, 'label_smoothing', DEFAULTS.labelSmoothing)
  }
  const analysis: Analysis = { input, activation: common.activation, ignoreIndex: common.ignoreIndex, breakdown, hardest: k, classWeights: balanced }
  const ce = (): CrossEntropyOptions => crossEntropyOptionsOf(common, balanced ?? readVector(raw.get('weight')), readVector(raw.get('pos_weight')))
  switch (model) {
    case 'ce':
      return { model, input, analysis, outputs, options: ce() }
    case 'focal':
      return { model, input, analysis, outputs, options: focalOptions(common, parameters, raw.get('alpha'), balanced) }
    case 'compare':
      return { model, input, analysis, outputs, ce: ce(), focal: focalOptions(common, parameters, raw.get('alpha'), balanced) }
  }
}

/** The core and the JSON API name options as JSON fields; V2 spells them as its parameters and inputs. */
export function v2Names (message: string): string {
  return message
    .replace(/\bposWeight\b/g, 'pos_weight')
    .replace(/\blabelSmoothing\b/g, 'label_smoothing')
    .replace(/\bignoreIndex\b/g, 'ignore_index')
    .replace(/\bclassBalance\.counts\b/g, 'class_counts')
    .replace(/\bclassBalance\.beta\b/g, 'parameters.class_balance_beta')
    .replace(/\bclassBalance\b/g, 'class_counts')
    .replace(/^hardest = /, 'parameters.hardest = ')
    .replace(/^alpha = (\S+) is outside \[0, 1\]$/, 'parameters.alpha = $1 is outside [0, 1] (or -1 for no balancing)')
}

export interface EncodedOutputs {
  readonly outputs: ResponseOutput[]
  /** The bytes of the binary outputs, in the order they appear in `outputs`. */
  readonly binary: Buffer[]
}

/** One loss's result with the analysis the request asked for, computed once for all its outputs. */
interface Answer {
  readonly result: LossResult
  readonly perClass: ClassTotals[] | undefined
  readonly hardest: HardRow[] | undefined
}

function answer (result: LossResult, analysis: Analysis): Answer {
  const { input, activation, ignoreIndex, breakdown, hardest: k } = analysis
  return {
    result,
    perClass: breakdown ? perClass(result, input, activation, ignoreIndex) : undefined,
    // Computed when asked even if no hardest_* output is named: an invalid k is a 400 either way, as in the JSON API.
    hardest: k === undefined ? undefined : inV2Names(() => hardest(result, input, activation, ignoreIndex, k))
  }
}

/**
 * The outputs asked for, from the same functions the JSON API's reply is made of (`perClass`,
 * `hardest`, `classWeights`). FP64 outputs carry the JSON API's doubles: `sum`, a reduced `loss` and
 * the per-class and per-row totals are float64 sums, and widening the float32 `none` values is exact
 * (-0 written as 0). A mean over nothing is NaN in binary and null in JSON, where NaN cannot be
 * written, as `null` is in the JSON API.
 */
export function encodeOutputs (scored: LossResult | Comparison, decoded: Decoded): EncodedOutputs {
  const { analysis } = decoded
  const answers = new Map<LossName | undefined, Answer>('ce' in scored
    ? [['ce', answer(scored.ce, analysis)], ['focal', answer(scored.focal, analysis)]]
    : [[undefined, answer(scored, analysis)]])
  const outputs: ResponseOutput[] = []
  const binary: Buffer[] = []
  for (const { spec, binary: asBinary } of decoded.outputs) {
    // compare's per_class_count belongs to neither loss: rows per class are the same for both, and
    // the JSON API takes them from cross-entropy's.
    const found = answers.get(spec.of) ?? answers.get('ce')
    if (found === undefined) throw new Error(`no result for output ${spec.name}`)
    const { values, shape } = tensorOf(spec.field, found, analysis)
    const { name, datatype } = spec
    if (asBinary) {
      const wire = datatype === 'INT64' ? BigInt64Array.from(values, (v) => BigInt(v)) : values
      const bytes = Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength)
      outputs.push({ name, datatype, shape, parameters: { binary_data_size: bytes.length } })
      binary.push(bytes)
    } else {
      outputs.push({ name, datatype, shape, data: Array.from(values, (v) => Number.isNaN(v) ? null : v) })
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

function needed<T> (value: T | undefined, field: Field): T {
  // The output requests are checked against what the request asked for before anything is scored.
  if (value === undefined) throw new Error(`output ${field} was not computed`)
  return value
}

/** One output's values (INT64 ones as integral doubles) and shape. */
function tensorOf (field: Field, { result, perClass, hardest }: Answer, analysis: Analysis): { values: Float64Array | Float32Array, shape: number[] } {
  const vector = (values: Float64Array | Float32Array): { values: Float64Array | Float32Array, shape: number[] } => ({ values, shape: [values.length] })
  switch (field) {
    case 'loss':
      return result.reduction === 'none'
        ? { values: widen(result.values), shape: [...result.valuesShape] }
        : { values: Float64Array.of((result.loss ?? NaN) + 0), shape: [1] }
    case 'sum':
      return { values: Float64Array.of(result.sum), shape: [1] }
    case 'normalizer':
      return { values: Float64Array.of(result.normalizer), shape: [1] }
    case 'per_class_count':
      return vector(Float64Array.from(needed(perClass, field), (c) => c.count))
    case 'per_class_sum':
      return vector(Float64Array.from(needed(perClass, field), (c) => c.sum))
    case 'per_class_mean':
      return vector(Float64Array.from(needed(perClass, field), (c) => c.mean ?? NaN))
    case 'hardest_index': {
      const rows = needed(hardest, field)
      const temporal = analysis.input.shape.length === 3
      return { values: Float64Array.from(rows.flatMap((r) => r.index)), shape: temporal ? [rows.length, 2] : [rows.length] }
    }
    case 'hardest_label':
      return vector(Float64Array.from(needed(hardest, field), (r) => r.label))
    case 'hardest_loss':
      return vector(Float64Array.from(needed(hardest, field), (r) => r.loss))
    case 'class_weights':
      return vector(needed(analysis.classWeights, field))
  }
}
