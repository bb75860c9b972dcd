/**
 * The V2 body reader: tensors after the JSON header land on an 8-byte boundary, and the body limit
 * and Content-Length are enforced as Fastify's own reader enforces them.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { readBody } from '../../../src/wire/v2/body.js'

const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff))

function stream (body: Buffer, chunk = 5): Readable {
  const parts: Buffer[] = []
  for (let i = 0; i < body.length; i += chunk) parts.push(body.subarray(i, i + chunk))
  return Readable.from(parts)
}

test('the bytes after the announced JSON header start 8-byte aligned, with or without Content-Length', async () => {
  for (let header = 0; header < 24; header++) {
    const body = bytes(header + 40)
    const headers = { 'inference-header-content-length': String(header) }
    for (const sized of [true, false]) {
      const got = await readBody(stream(body), sized ? { ...headers, 'content-length': String(body.length) } : headers, 1024)
      assert.ok(got.equals(body), `header ${header}, sized ${String(sized)}`)
      assert.equal((got.byteOffset + header) % 8, 0, `header ${header}, sized ${String(sized)}`)
    }
  }
})

test('without a usable header length the body is read as it is', async () => {
  for (const given of [undefined, 'abc', '-3']) {
    const body = bytes(33)
    const headers = { 'content-length': '33', ...(given === undefined ? {} : { 'inference-header-content-length': given }) }
    assert.ok((await readBody(stream(body), headers, 1024)).equals(body))
  }
})

test('the body limit: 413 from Content-Length before reading, and from the bytes while reading', async () => {
  const body = bytes(100)
  await assert.rejects(readBody(stream(body), { 'content-length': '100' }, 99), { statusCode: 413, message: 'the body is larger than the body limit (99 bytes)' })
  await assert.rejects(readBody(stream(body), {}, 99), { statusCode: 413 })
  assert.equal((await readBody(stream(body), {}, 100)).length, 100)
})

test('a body longer or shorter than its Content-Length, or a broken stream, is a 400', async () => {
  const body = bytes(20)
  await assert.rejects(readBody(stream(body), { 'content-length': '12' }, 1024), { statusCode: 400, message: 'the body is longer than its Content-Length' })
  await assert.rejects(readBody(stream(body), { 'content-length': '30' }, 1024), { statusCode: 400, message: 'the body has 20 bytes, its Content-Length says 30' })
  const broken = new Readable({ read () { this.destroy(new Error('aborted')) } })
  await assert.rejects(readBody(broken, {}, 1024), { statusCode: 400, message: 'aborted' })
})
