/** Which node-postgres failures mean "the database is not there or not able now" rather than a bug. */
import { UnavailableError } from '../errors.js'

/** Socket errors of a server that is down, restarting or unreachable. */
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])

/**
 * SQLSTATEs: 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up),
 * 53300 too many connections, 57014 statement timeout, 55P03 lock timeout, 40001/40P01
 * serialization failure and deadlock (both safe to retry), 25P03 idle-in-transaction timeout.
 * @see https://www.postgresql.org/docs/15/errcodes-appendix.html
 */
const SQLSTATE = new Set(['57P01', '57P02', '57P03', '53300', '57014', '55P03', '40001', '40P01', '25P03'])

/** What pg itself says when it loses or cannot get a connection. */
const MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Connection ended/i

export function unavailable (err: unknown): UnavailableError | undefined {
  if (err instanceof UnavailableError) return err
  if (!(err instanceof Error)) return undefined
  const code = (err as { code?: unknown }).code
  const known = typeof code === 'string' && (NETWORK.has(code) || SQLSTATE.has(code) || code.startsWith('08'))
  if (!known && !MESSAGES.test(err.message)) return undefined
  return new UnavailableError(`the run store is unavailable (${typeof code === 'string' ? code : err.message}); retry`)
}
