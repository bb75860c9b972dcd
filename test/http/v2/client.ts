/**
 * A small V2 client for the tests, written from the protocol documents rather than from src/wire:
 * it frames requests the way tritonclient does and reads responses the way its InferResult does.
 */
import type { FastifyInstance, InjectOptions } from 'fastify'

export type Datatype = 'FP32' | 'FP64' | 'INT32' | 'INT64'

export interface Tensor {
  name: string
  datatype: Datatype | string
  shape: number[]
  values: ArrayLike<number>
}

export interface RequestOptions {
  id?: string
  parameters?: Record<string, string | number | boolean>
  outputs?: Array<{ name: string, parameters?: Record<string, unknown> }>
  /** Spaces appended to the JSON header, to move the binary tensors to every alignment. */
  pad?: number
  headers?: Record<string, string>
}

/** Little-endian bytes of `values` as `datatype`. */
export function bytesOf (datatype: string, values: ArrayLike<number>): Buffer {
  switch (datatype) {
    case 'FP32': return Buffer.from(Float32Array.from(values).buffer)
    case 'FP64': return Buffer.from(Float64Array.from(values).buffer)
    case 'INT32': return Buffer.from(Int32Array.from(values).buffer)
    case 'INT64': return Buffer.from(BigInt64Array.from(Array.from(values), (v) => BigInt(v)).buffer)
    default: throw new Error(`bytesOf: ${datatype}`)
  }
}

function header (inputs: unknown[], options: RequestOptions): Record<string, unknown> {
  return {
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
    inputs,
    ...(options.outputs === undefined ? {} : { outputs: options.outputs })
  }
}

/** Every tensor as binary data, with no Content-Type, as tritonclient sends it. */
export function binaryRequest (url: string, tensors: Tensor[], options: RequestOptions = {}): InjectOptions {
  const parts = tensors.map((t) => bytesOf(t.datatype, t.values))
  const inputs = tensors.map((t, i) => ({ name: t.name, shape: t.shape, datatype: t.datatype, parameters: { binary_data_size: parts[i]?.length } }))
  const json = Buffer.from(JSON.stringify(header(inputs, options)) + ' '.repeat(options.pad ?? 0))
  return {
    method: 'POST',
    url,
    payload: Buffer.concat([json, ...parts]),
    headers: { 'inference-header-content-length': String(json.length), ...options.headers }
  }
}

/** Every tensor as JSON `data`, flat or nested in the tensor's shape. */
export function jsonRequest (url: string, tensors: Tensor[], options: RequestOptions & { nested?: boolean } = {}): InjectOptions {
  const inputs = tensors.map((t) => ({
    name: t.name,
    shape: t.shape,
    datatype: t.datatype,
    data: options.nested === true ? nest(Array.from(t.values), t.shape) : Array.from(t.values)
  }))
  return { method: 'POST', url, payload: header(inputs, options), headers: options.headers }
}

export function nest (flat: number[], shape: readonly number[]): unknown[] {
  if (shape.length <= 1) return flat
  const [rows = 0, ...rest] = shape
  const step = rest.reduce((a, b) => a * b, 1)
  return Array.from({ length: rows }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), rest))
}

export interface Output {
  datatype: string
  shape: number[]
  /** JSON data as sent (null stays null), or the binary FP64 values (NaN stays NaN). */
  values: Array<number | null>
  binary: boolean
}

export interface V2Reply {
  status: number
  header: Record<string, any>
  outputs: Map<string, Output>
}

/** Splits a response at Inference-Header-Content-Length and reads each binary output in order. */
export function readReply (status: number, headers: Record<string, unknown>, body: Buffer): V2Reply {
  const given = headers['inference-header-content-length']
  const length = given === undefined ? body.length : Number(given)
  const header = JSON.parse(body.subarray(0, length).toString('utf8')) as Record<string, any>
  const outputs = new Map<string, Output>()
  let offset = length
  for (const o of (header.outputs ?? []) as Array<Record<string, any>>) {
    const size = o.parameters?.binary_data_size as number | undefined
    if (size === undefined) {
      outputs.set(o.name, { datatype: o.datatype, shape: o.shape, values: o.data, binary: false })
      continue
    }
    if (o.datatype !== 'FP64') throw new Error(`readReply: ${String(o.datatype)}`)
    const copy = new Uint8Array(size)
    copy.set(body.subarray(offset, offset + size))
    offset += size
    outputs.set(o.name, { datatype: o.datatype, shape: o.shape, values: Array.from(new Float64Array(copy.buffer)), binary: true })
  }
  if (offset !== body.length) throw new Error(`readReply: ${body.length - offset} bytes left over`)
  return { status, header, outputs }
}

export async function infer (app: FastifyInstance, request: InjectOptions): Promise<V2Reply> {
  const res = await app.inject(request)
  if (res.statusCode !== 200) return { status: res.statusCode, header: res.json(), outputs: new Map() }
  return readReply(res.statusCode, res.headers, res.rawPayload)
}

/** A V2 reply in the JSON API's form: loss a number, null (NaN) or the flat `none` values. */
export function asLossReply (reply: V2Reply): { loss: unknown, sum: unknown, normalizer: unknown } {
  const scalar = (name: string): unknown => {
    const v = reply.outputs.get(name)?.values[0]
    return typeof v === 'number' && Number.isNaN(v) ? null : v
  }
  const loss = reply.outputs.get('loss')
  const none = reply.header.parameters?.reduction === 'none'
  return { loss: none ? loss?.values : scalar('loss'), sum: scalar('sum'), normalizer: scalar('normalizer') }
}
