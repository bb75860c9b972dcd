/**
 * Errors of the core say what is wrong and where, in the caller's names, and carry no HTTP status:
 * plugins/errors.ts maps each kind to its status at the edge (JSON API, V2, later gRPC). Only the
 * transports' own failures (a body over the limit, an unsupported encoding) are `HttpError`s.
 */
export class DomainError extends Error {
  constructor (message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** The request is malformed or its values break a documented constraint. */
export class InvalidInputError extends DomainError {}

/** The input is well formed, but its result does not fit in float32. */
export class UnrepresentableError extends DomainError {}

/** What the request names does not exist (a model, a run, a batch). */
export class NotFoundError extends DomainError {}

/** The request contradicts the state it acts on (a closed run, a batch id reused with another body). */
export class ConflictError extends DomainError {}

/** The service cannot take the request now; the client may retry. */
export class UnavailableError extends DomainError {
  readonly retryAfterSeconds: number
  constructor (message: string, retryAfterSeconds = 1) {
    super(message)
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** A failure of the transport itself, with the status it answers. */
export class HttpError extends Error {
  readonly statusCode: number
  constructor (statusCode: number, message: string) {
    super(message)
    this.name = new.target.name
    this.statusCode = statusCode
  }
}

/** Throws an InvalidInputError; a declared function, so that TypeScript narrows after a call. */
export function invalid (message: string): never {
  throw new InvalidInputError(message)
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
