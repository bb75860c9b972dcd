/**
 * The binary tensor data extension's framing: a body is a JSON header of
 * `Inference-Header-Content-Length` bytes followed by the binary tensors, little-endian, in the
 * order of the inputs that carry `binary_data_size`. Responses are framed the same way.
 *
 * @see https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md
 */
import { gunzipSync, inflateSync } from 'node:zlib'
import sjson from 'secure-json-parse'
import { HttpError, invalid } from '../../errors.js'
import { checkKeys, checkNesting } from '../json-structure.js'

export const HEADER_LENGTH = 'inference-header-content-length'

export interface FrameInfo {
  /** Bytes of the JSON header. */
  readonly jsonLength: number
  /** The bytes after the JSON header; empty for a JSON-only body. */
  readonly binary: Buffer
}

export interface Frame extends FrameInfo {
  readonly header: unknown
}

/**
 * A body sent with Content-Encoding gzip or deflate (tritonclient's request_compression_algorithm),
 * inflated to at most `limit` bytes: the body limit holds for what is decoded, not only what is sent.
 */
export function decompress (body: Buffer, encoding: string | undefined, limit: number): Buffer {
  const name = encoding?.trim().toLowerCase() ?? 'identity'
  if (name === 'identity') return body
  const inflate = name === 'gzip' || name === 'x-gzip' ? gunzipSync : name === 'deflate' ? inflateSync : undefined
  if (inflate === undefined) throw new HttpError(415, `Content-Encoding ${JSON.stringify(encoding)} is not supported; send gzip, deflate or none`)
  try {
    return inflate(body, { maxOutputLength: limit })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(413, `the ${name} body inflates to more than ${limit} bytes, the body limit`)
    }
    return invalid(`the ${name} body cannot be inflated: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/**
 * Splits a request body. Without the header (or with 0, as Triton reads it) the whole body is JSON.
 */
export function splitBody (body: Buffer, headerLength: string | string[] | undefined): Frame {
  let length = body.length
  if (headerLength !== undefined) {
    const text = Array.isArray(headerLength) ? headerLength.join(', ') : headerLength
    if (!/^\d{1,15}$/.test(text)) invalid(`Inference-Header-Content-Length must be a non-negative integer, got ${JSON.stringify(text)}`)
    const given = Number(text)
    if (given > body.length) invalid(`Inference-Header-Content-Length = ${given} is larger than the body (${body.length} bytes)`)
    if (given > 0) length = given
  }
  if (length === 0) invalid('body is empty; expected a JSON inference request')
  return { header: parseHeader(body.toString('utf8', 0, length), headerLength === undefined), jsonLength: length, binary: body.subarray(length) }
}

/** The JSON header, checked for nesting before it is parsed and for repeated keys after (wire/json-structure.ts). */
function parseHeader (text: string, lengthMissing: boolean): unknown {
  const structure = checkNesting(text)
  let header: unknown
  try {
    header = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' })
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    if (/prototype/.test(reason)) invalid('the JSON header contains a forbidden "__proto__" or "constructor.prototype" key')
    const hint = lengthMissing && /after JSON/.test(reason)
      ? ' (binary tensor data after the JSON needs the Inference-Header-Content-Length header)'
      : ''
    return invalid(`the JSON header is not valid JSON: ${reason}${hint}`)
  }
  checkKeys(text, structure)
  return header
}

/** Hands out the binary section tensor by tensor and checks that it is used up exactly. */
export class BinaryReader {
  private offset = 0
  constructor (private readonly bytes: Buffer) {}

  take (what: string, size: number): Buffer {
    const left = this.bytes.length - this.offset
    if (size > left) {
      invalid(`${what} needs ${size} bytes of binary data at offset ${this.offset}, but only ${left} remain: the body is truncated or an earlier binary_data_size is too large`)
    }
    const out = this.bytes.subarray(this.offset, this.offset + size)
    this.offset += size
    return out
  }

  finish (): void {
    const left = this.bytes.length - this.offset
    if (left > 0) {
      invalid(`${left} bytes of binary data after the ${this.offset === 0 ? 'JSON header' : 'last binary input'} belong to no input: ` +
        'the binary_data_size values or Inference-Header-Content-Length are wrong')
    }
  }
}

type View<T> = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => T

/**
 * The bytes as a typed array. A view when the offset allows it; a copy otherwise (an FP64 tensor
 * after an odd number of FP32 values, a body that was inflated), into memory that is not zeroed
 * first since every byte is overwritten. Assumes a little-endian host, as every platform Node runs on is.
 */
export function typed<T> (bytes: Buffer, View: View<T> & { BYTES_PER_ELEMENT: number }): T {
  const size = View.BYTES_PER_ELEMENT
  const count = bytes.length / size
  if (bytes.byteOffset % size === 0) return new View(bytes.buffer, bytes.byteOffset, count)
  const copy = Buffer.allocUnsafeSlow(bytes.length)
  bytes.copy(copy)
  return new View(copy.buffer, copy.byteOffset, count)
}

/** A response body: the JSON header, then each binary output in order. */
export function frameResponse (header: unknown, tensors: readonly Buffer[]): { body: Buffer, headerLength: number } {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  return { body: Buffer.concat([json, ...tensors]), headerLength: json.length }
}
