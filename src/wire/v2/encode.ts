/** The dataplane's result as V2 output tensors, JSON or binary. */
import type { ScoredLoss, ScoreResult } from '../../dataplane/index.js'
import type { LossInput } from '../../losses/index.js'
import type { ResponseOutput } from '../../../schemas/v2.js'
import type { DecodedInfer } from './decode.js'
import { metricTensor } from './metrics.js'
import type { Field, OutputSpec } from './models.js'

export interface EncodedOutputs {
  readonly outputs: ResponseOutput[]
  /** The bytes of the binary outputs, in the order they appear in `outputs`. */
  readonly binary: Buffer[]
}

/**
 * The loss an output belongs to: compare's are prefixed by their loss; per_class_count belongs to
 * none (rows per class are the same for all, and the JSON API takes them from cross-entropy's, or
 * from the first of a `losses` list).
 */
function lossOf (spec: OutputSpec, result: ScoreResult): ScoredLoss {
  const [only] = result.losses
  const found = spec.of === undefined
    ? result.losses.find((l) => l.name === 'ce') ?? only
    : result.losses.find((l) => l.name === spec.of)
  if (found === undefined) throw new Error(`no result for output ${spec.name}`)
  return found
}

/**
 * The outputs asked for, from the same per-class totals, hardest rows and class weights the JSON API
 * answers. FP64 outputs carry the JSON API's doubles: `sum`, a reduced `loss` and the per-class and
 * per-row totals are float64 sums, and widening the float32 `none` values is exact (-0 written as 0).
 * A mean over nothing is NaN in binary and null in JSON, where NaN cannot be written, as `null` is in
 * the JSON API.
 */
export function encodeOutputs (result: ScoreResult, decoded: DecodedInfer): EncodedOutputs {
  const { input } = decoded.request
  const outputs: ResponseOutput[] = []
  const binary: Buffer[] = []
  for (const { spec, binary: asBinary } of decoded.outputs) {
    const { values, shape } = spec.field === 'metrics' ? metricTensor(spec.name, result) : tensorOf(spec.field, lossOf(spec, result), input, result.classWeights)
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
function tensorOf (field: Exclude<Field, 'metrics'>, { result, perClass, hardest }: ScoredLoss, input: LossInput, classWeights: Float32Array | undefined): { values: Float64Array | Float32Array, shape: number[] } {
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
      const temporal = input.shape.length === 3
      return { values: Float64Array.from(rows.flatMap((r) => r.index)), shape: temporal ? [rows.length, 2] : [rows.length] }
    }
    case 'hardest_label':
      return vector(Float64Array.from(needed(hardest, field), (r) => r.label))
    case 'hardest_loss':
      return vector(Float64Array.from(needed(hardest, field), (r) => r.loss))
    case 'class_weights':
      return vector(needed(classWeights, field))
  }
}
