/**
 * Reads a V2 request body into one buffer, placed so that the bytes after the JSON header start on
 * an 8-byte boundary. Fastify's own `parseAs: 'buffer'` puts the body at offset 0, so the tensors
 * after a header of arbitrary length are usually misaligned and each needs a second megabyte-sized
 * copy before it can be viewed as a Float32Array; placed this way, FP32, INT32 and INT64 tensors are
 * read in place. The checks are those of Fastify's reader: the body limit against Content-Length
 * before reading and against the bytes received while reading (413), and the received length
 * against Content-Length (400).
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import { HttpError } from '../../errors.js'
import { HEADER_LENGTH } from './binary.js'

const ALIGN = 8

function tooLarge (limit: number): HttpError {
  return new HttpError(413, `the body is larger than the body limit (${limit} bytes)`)
}

/** Leading bytes that put the end of a JSON header of the announced length on an 8-byte boundary. */
function lead (headers: IncomingHttpHeaders): number {
  const given = headers[HEADER_LENGTH]
  const length = typeof given === 'string' && /^\d{1,15}$/.test(given) ? Number(given) : 0
  return (ALIGN - (length % ALIGN)) % ALIGN
}

export function readBody (payload: Readable, headers: IncomingHttpHeaders, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const length = Number(headers['content-length'])
    const declared = Number.isSafeInteger(length) && length >= 0 ? length : undefined
    if (declared !== undefined && declared > limit) {
      reject(tooLarge(limit))
      return
    }
    const pad = lead(headers)
    // With a Content-Length the chunks go straight to their place; chunked bodies are gathered first.
    const target = declared === undefined ? undefined : Buffer.allocUnsafeSlow(pad + declared)
    const chunks: Buffer[] = []
    let received = 0
    const stop = (err: Error): void => {
      payload.removeListener('data', onData)
      payload.removeListener('end', onEnd)
      payload.removeListener('error', onError)
      reject(err)
    }
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      if (received + bytes.length > limit) {
        stop(tooLarge(limit))
        return
      }
      if (target === undefined) chunks.push(bytes)
      else if (pad + received + bytes.length <= target.length) bytes.copy(target, pad + received)
      else {
        stop(new HttpError(400, 'the body is longer than its Content-Length'))
        return
      }
      received += bytes.length
    }
    const onEnd = (): void => {
      payload.removeListener('data', onData)
      payload.removeListener('error', onError)
      if (declared !== undefined && received !== declared) {
        reject(new HttpError(400, `the body has ${received} bytes, its Content-Length says ${String(declared)}`))
        return
      }
      if (target !== undefined) {
        resolve(target.subarray(pad, pad + received))
        return
      }
      const out = Buffer.allocUnsafeSlow(pad + received)
      let at = pad
      for (const chunk of chunks) at += chunk.copy(out, at)
      resolve(out.subarray(pad))
    }
    const onError = (err: Error & { statusCode?: number }): void => {
      payload.removeListener('data', onData)
      payload.removeListener('end', onEnd)
      reject(Object.assign(err, { statusCode: err.statusCode ?? 400 }))
    }
    payload.on('data', onData)
    payload.on('end', onEnd)
    payload.on('error', onError)
  })
}
