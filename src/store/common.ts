/** What both dialects share: run ids, list cursors, the messages of refused writes. */
import { ConflictError, invalid } from '../errors.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Run ids are UUIDs the store made; anything else names no run (and must not reach a uuid column). */
export function isRunId (id: string): boolean {
  return UUID.test(id)
}

export const DAY_MS = 86_400_000

/** The position after the last run of a page: its creation time and id, in base64url. */
export function encodeCursor (createdMs: number, id: string): string {
  return Buffer.from(`${createdMs}.${id}`).toString('base64url')
}

export function decodeCursor (cursor: string): { createdMs: number, id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const dot = text.indexOf('.')
  const createdMs = Number(text.slice(0, dot))
  const id = text.slice(dot + 1)
  if (dot < 1 || !Number.isSafeInteger(createdMs) || !isRunId(id)) {
    invalid(`cursor = ${JSON.stringify(cursor)} is not a cursor this service returned`)
  }
  return { createdMs, id }
}

export function tooManyRuns (maxOpen: number): ConflictError {
  return new ConflictError(`${maxOpen} runs are open, as many as MAX_RUNS allows: close or delete one first`)
}

export function conflictMessage (batchId: string): string {
  return `batch ${JSON.stringify(batchId)} was already added with another body`
}

/** A view of the driver's Buffer as a plain Uint8Array, so callers compare like with like. */
export function bytes (buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

export function buffer (state: Uint8Array): Buffer {
  return Buffer.from(state.buffer, state.byteOffset, state.byteLength)
}
