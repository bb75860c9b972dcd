/**
 * The golden fixtures' JSON API bodies as V2 requests, and JSON API replies as the V2 outputs they
 * must equal. Shared by test/http/v2-golden.test.ts and test/http/v2-analysis.test.ts.
 */
import type { FastifyInstance, InjectOptions } from 'fastify'
import { flatten } from '../../golden/inputs.js'
import type { Tensor } from './client.js'

export function shapeOf (value: unknown): number[] {
  const shape: number[] = []
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length)
  return shape
}

const OPTIONS: Record<string, string> = {
  activation: 'activation',
  reduction: 'reduction',
  ignoreIndex: 'ignore_index',
  labelSmoothing: 'label_smoothing',
  gamma: 'gamma',
  breakdown: 'breakdown',
  hardest: 'hardest'
}

export type Parameters = Record<string, string | number | boolean>

/**
 * The JSON API body of case number `i` as V2 tensors and parameters. The datatypes rotate with `i`:
 * FP32/FP64 logits, targets and vectors, INT32/INT64 indices, INT64/FP64/FP32 class counts.
 */
export function toV2 (body: Record<string, unknown>, i: number): { tensors: Tensor[], parameters: Parameters } {
  const logitsShape = shapeOf(body.logits)
  const labelsShape = shapeOf(body.labels)
  const index = logitsShape.length > 1 && labelsShape.length === logitsShape.length - 1
  const tensors: Tensor[] = [
    { name: 'logits', datatype: i % 4 === 3 ? 'FP64' : 'FP32', shape: logitsShape, values: flatten(body.logits) },
    {
      name: 'labels',
      datatype: index ? (i % 2 === 0 ? 'INT64' : 'INT32') : (i % 3 === 2 ? 'FP64' : 'FP32'),
      shape: labelsShape,
      values: flatten(body.labels)
    }
  ]
  const parameters: Parameters = {}
  for (const [key, value] of Object.entries(body)) {
    const option = OPTIONS[key]
    if (option !== undefined) {
      parameters[option] = value as string | number | boolean
    } else if (key === 'weight' || key === 'posWeight' || (key === 'alpha' && Array.isArray(value))) {
      const values = value as number[]
      tensors.push({ name: key === 'posWeight' ? 'pos_weight' : key, datatype: i % 5 === 4 ? 'FP64' : 'FP32', shape: [values.length], values })
    } else if (key === 'alpha') {
      parameters.alpha = value === null ? -1 : value as number
    } else if (key === 'classBalance') {
      const { counts, beta } = value as { counts: number[], beta: number }
      tensors.push({ name: 'class_counts', datatype: ['INT64', 'FP64', 'FP32'][i % 3] ?? 'INT64', shape: [counts.length], values: counts })
      parameters.class_balance_beta = beta
    } else if (key !== 'logits' && key !== 'labels') {
      throw new Error(`toV2: unexpected field ${key}`)
    }
  }
  return { tensors, parameters }
}

export interface TypedOutput {
  name: string
  datatype: string
  shape: number[]
  /** JSON data as sent, or the binary values; NaN read as null, as JSON data writes it. */
  values: Array<number | null>
}

export interface TypedReply {
  status: number
  header: Record<string, any>
  outputs: TypedOutput[]
}

const VIEWS: Record<string, (bytes: ArrayBuffer) => ArrayLike<number | bigint>> = {
  FP64: (b) => new Float64Array(b),
  FP32: (b) => new Float32Array(b),
  INT64: (b) => new BigInt64Array(b)
}

/** Like client.ts's `infer`, but reads binary outputs of every datatype the service answers with. */
export async function inferTyped (app: FastifyInstance, request: InjectOptions): Promise<TypedReply> {
  const res = await app.inject(request)
  if (res.statusCode !== 200) return { status: res.statusCode, header: res.json(), outputs: [] }
  const body = res.rawPayload
  const given = res.headers['inference-header-content-length']
  const length = given === undefined ? body.length : Number(given)
  const header = JSON.parse(body.subarray(0, length).toString('utf8')) as Record<string, any>
  let offset = length
  const outputs = (header.outputs as Array<Record<string, any>>).map((o): TypedOutput => {
    const size = o.parameters?.binary_data_size as number | undefined
    if (size === undefined) return { name: o.name, datatype: o.datatype, shape: o.shape, values: o.data }
    const view = VIEWS[o.datatype as string]
    if (view === undefined) throw new Error(`inferTyped: ${String(o.datatype)}`)
    const copy = new Uint8Array(size)
    copy.set(body.subarray(offset, offset + size))
    offset += size
    const values = Array.from(view(copy.buffer), (v) => Number.isNaN(Number(v)) ? null : Number(v))
    return { name: o.name, datatype: o.datatype, shape: o.shape, values }
  })
  if (offset !== body.length) throw new Error(`inferTyped: ${body.length - offset} bytes left over`)
  return { status: res.statusCode, header, outputs }
}

type Json = Record<string, any>

/** One loss of a JSON API reply as V2 outputs named `<prefix>loss`, ... */
function lossOutputs (reply: Json, prefix: string): TypedOutput[] {
  const none = reply.reduction === 'none'
  return [
    { name: `${prefix}loss`, datatype: 'FP64', shape: none ? shapeOf(reply.loss) : [1], values: none ? flatten(reply.loss) : [reply.loss] },
    { name: `${prefix}sum`, datatype: 'FP64', shape: [1], values: [reply.sum] },
    { name: `${prefix}normalizer`, datatype: 'FP64', shape: [1], values: [reply.normalizer] }
  ]
}

function vector (name: string, values: Array<number | null>, datatype = 'FP64'): TypedOutput {
  return { name, datatype, shape: [values.length], values }
}

function hardestOutputs (rows: Json[] | undefined, prefix: string, temporal: boolean): TypedOutput[] {
  if (rows === undefined) return []
  return [
    { name: `${prefix}hardest_index`, datatype: 'INT64', shape: temporal ? [rows.length, 2] : [rows.length], values: rows.flatMap((r) => r.index) },
    vector(`${prefix}hardest_label`, rows.map((r) => r.label), 'INT64'),
    vector(`${prefix}hardest_loss`, rows.map((r) => r.loss))
  ]
}

/**
 * The V2 outputs, in the order a request without `outputs` gets them, that carry exactly the numbers
 * of a JSON API reply (POST /loss/<endpoint>) for logits of rank `rank`.
 */
export function expectedOutputs (endpoint: 'ce' | 'focal' | 'compare', reply: Json, rank: number): TypedOutput[] {
  const temporal = rank === 3
  const perClass = reply.perClass as Json[] | undefined
  const weights = reply.classWeights === undefined ? [] : [vector('class_weights', reply.classWeights, 'FP32')]
  if (endpoint !== 'compare') {
    return [
      ...lossOutputs(reply, ''),
      ...(perClass === undefined
        ? []
        : [vector('per_class_count', perClass.map((c) => c.count)), vector('per_class_sum', perClass.map((c) => c.sum)), vector('per_class_mean', perClass.map((c) => c.mean))]),
      ...hardestOutputs(reply.hardest, '', temporal),
      ...weights
    ]
  }
  const totals = (loss: string): TypedOutput[] => perClass === undefined
    ? []
    : [vector(`${loss}_per_class_sum`, perClass.map((c) => c[loss].sum)), vector(`${loss}_per_class_mean`, perClass.map((c) => c[loss].mean))]
  return [
    ...lossOutputs(reply.ce, 'ce_'),
    ...lossOutputs(reply.focal, 'focal_'),
    ...(perClass === undefined ? [] : [vector('per_class_count', perClass.map((c) => c.count))]),
    ...totals('ce'),
    ...totals('focal'),
    ...hardestOutputs(reply.ce.hardest, 'ce_', temporal),
    ...hardestOutputs(reply.focal.hardest, 'focal_', temporal),
    ...weights
  ]
}
