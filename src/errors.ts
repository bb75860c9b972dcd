/**
 * Errors that carry their HTTP status. The error handler maps them; anything else is a 500 whose
 * internals are hidden from the client.
 */
export class HttpError extends Error {
  readonly statusCode: number
  constructor (statusCode: number, message: string) {
    super(message)
    this.name = new.target.name
    this.statusCode = statusCode
  }
}

/** The request is malformed or its values break a documented constraint (400). */
export class InvalidInputError extends HttpError {
  constructor (message: string) {
    super(400, message)
  }
}

/** The input is well formed, but its result does not fit in float32 (422). */
export class UnrepresentableError extends HttpError {
  constructor (message: string) {
    super(422, message)
  }
}

/** The service cannot take the request now; the client may retry (503). */
export class UnavailableError extends HttpError {
  readonly retryAfterSeconds: number
  constructor (message: string, retryAfterSeconds = 1) {
    super(503, message)
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** `labels[3][7]` for flat index 31 of a [N, 10] array named `labels`. */
export function at (name: string, flatIndex: number, shape: readonly number[]): string {
  let rest = flatIndex
  const parts = new Array<number>(shape.length)
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d] ?? 1
    parts[d] = rest % size
    rest = Math.floor(rest / size)
  }
  return name + parts.map((p) => `[${p}]`).join('')
}
