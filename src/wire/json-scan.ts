/**
 * A JSON body read straight from its bytes, with the batch arrays (`logits`, `labels`) going into
 * flat typed arrays as they are read: no string of the body, no JS array per row, no boxed number.
 *
 * It is the fast path only: anything it does not handle (a syntax error, an escaped or repeated key
 * at any level, nesting past json-structure.ts's limit, a forbidden key) makes it answer undefined,
 * and the caller parses the body with JSON.parse as before; an array it cannot pack (ragged, empty,
 * rank above 3) is left to JSON.parse and the decoder. So every message a client sees comes from
 * one place. The values it gives are the ones JSON.parse gives, converted to float32 the same way:
 * fast-check compares the two on random bodies.
 */
import { float32Of, int32Of } from '../arrays.js'
import { wellFormed } from './json-structure.js'
import { FORBIDDEN_KEYS, PackedArray } from './packed.js'

export { FORBIDDEN_KEYS, PackedArray } from './packed.js'

const F32_MAX = 3.4028234663852886e38
const INT32_MAX = 0x7fffffff
/** Powers of ten as doubles; exact up to 1e22, correctly rounded beyond. */
const POW10 = Float64Array.from({ length: 309 }, (_, i) => Number(`1e${i}`))
/** 10^-i, correctly rounded. */
const INV_POW10 = Float64Array.from({ length: 309 }, (_, i) => Number(`1e-${i}`))
/**
 * Factors that widen an approximate interval for the rounding of computing it: one inexact power of
 * ten and one multiplication, each within 2^-53 relative. Generous on purpose: they only decide
 * when to re-read a number exactly.
 */
const LOWER = 1 - 2 ** -44
const UPPER = 1 + 2 ** -44
const MAX_RANK = 3

const enum Byte {
  Tab = 9, Newline = 10, Return = 13, Space = 32, Quote = 34, Plus = 43, Comma = 44, Minus = 45,
  Dot = 46, Zero = 48, One = 49, Nine = 57, Colon = 58, UpperE = 69, OpenBracket = 91, Backslash = 92,
  CloseBracket = 93, LowerE = 101, OpenBrace = 123, CloseBrace = 125
}

/**
 * Where numbers go as they are read, before being copied out as float32 or int32: shared by every
 * scan (a scan is synchronous), so a small body allocates nothing here; larger ones grow a copy.
 */
const SHARED_SCRATCH = new Float64Array(1 << 16)

class Scanner {
  pos = 0
  private count = 0
  private scratch = SHARED_SCRATCH
  private integers = true
  private finite = true
  private readonly shape: number[] = []
  /** Per depth: 0 not seen yet, 1 holds arrays, 2 holds numbers. */
  private readonly kinds: number[] = new Array<number>(MAX_RANK).fill(0)

  constructor (private readonly bytes: Uint8Array, private readonly text: (start: number, end: number) => string) {}

  ws (): number {
    const b = this.bytes
    let i = this.pos
    let c = b[i] ?? 0
    while (c === Byte.Space || c === Byte.Newline || c === Byte.Return || c === Byte.Tab) c = b[++i] ?? 0
    this.pos = i
    return c
  }

  /** A key at `pos` (after its opening quote) with no escape and no byte outside printable ASCII. */
  key (): string | undefined {
    const b = this.bytes
    const start = this.pos
    let i = start
    let c = b[i] ?? 0
    while (c !== Byte.Quote) {
      if (c === Byte.Backslash || c < 0x20 || c >= 0x80) return undefined
      c = b[++i] ?? 0
    }
    this.pos = i + 1
    return this.text(start, i)
  }

  /**
   * The end of the JSON value at `pos`, found by matching brackets and strings without parsing it
   * (JSON.parse then reads just that slice); -1 when the bytes end first.
   */
  valueEnd (): number {
    const b = this.bytes
    let i = this.pos
    let depth = 0
    while (i < b.length) {
      const c = b[i] ?? 0
      if (c === Byte.Quote) {
        i++
        while (i < b.length && b[i] !== Byte.Quote) i += b[i] === Byte.Backslash ? 2 : 1
        if (i >= b.length) return -1
        i++
        if (depth === 0) return i
        continue
      }
      if (c === Byte.OpenBracket || c === Byte.OpenBrace) {
        depth++
      } else if (c === Byte.CloseBracket || c === Byte.CloseBrace) {
        if (depth === 0) return i
        if (--depth === 0) return i + 1
      } else if (depth === 0 && (c === Byte.Comma || c === Byte.Space || c === Byte.Newline || c === Byte.Return || c === Byte.Tab)) {
        return i
      }
      i++
    }
    return depth === 0 ? i : -1
  }

  /** A rectangular array of numbers at `pos` (on its '['), or undefined. */
  packed (): PackedArray | undefined {
    this.count = 0
    this.integers = true
    this.finite = true
    this.shape.length = 0
    this.kinds.fill(0)
    const start = this.pos
    if (!this.level(0)) {
      this.pos = start
      return undefined
    }
    const end = this.pos
    const values = this.scratch.subarray(0, this.count)
    // The array's text for error messages, without holding on to this scanner and its scratch.
    const text = this.text
    return new PackedArray(
      [...this.shape],
      float32Of(values),
      this.integers ? int32Of(values) : undefined,
      this.finite,
      () => text(start, end)
    )
  }

  /** One '[...]' at `depth`; its length must match every other array at that depth. */
  private level (depth: number): boolean {
    if (depth >= MAX_RANK) return false
    this.pos++
    let c = this.ws()
    if (c === Byte.CloseBracket) return false
    const nested = c === Byte.OpenBracket
    const kind = nested ? 1 : 2
    if (this.kinds[depth] === 0) this.kinds[depth] = kind
    else if (this.kinds[depth] !== kind) return false
    let length = 0
    if (!nested) {
      length = this.numbers()
      if (length < 0) return false
    } else {
      for (;;) {
        if (c !== Byte.OpenBracket || !this.level(depth + 1)) return false
        length++
        c = this.ws()
        if (c === Byte.CloseBracket) break
        if (c !== Byte.Comma) return false
        this.pos++
        c = this.ws()
      }
      this.pos++
    }
    const seen = this.shape[depth]
    if (seen === undefined) this.shape[depth] = length
    else if (seen !== length) return false
    return true
  }

  /**
   * The numbers of one innermost array, from its first number to past its ']', appended to the
   * scratch values; how many, or -1. One loop with everything in locals: a call per number and the
   * state in fields cost as much as reading the digits.
   *
   * The first 9 significant digits go into an integer; later ones are only counted (float32 needs
   * fewer, and arithmetic per digit was the scanner's bottleneck). Without later digits and with a
   * decimal exponent within ±22 the double is exact: one correctly rounded operation on exact
   * operands, Clinger's fast path. Otherwise the value lies in [hi, hi + 1) · 10^e with hi ≥ 10^8,
   * an interval of relative width ≤ 1e-8; when the whole interval (widened for the rounding of the
   * computation) rounds to one float32, that is the float32 of the exact value. Float32 values
   * written out in full, as clients send them, always pass; the rest are re-read with Number().
   * Integers past 9 digits are re-read too, so int32 labels are exact.
   *
   * Reads never pass the end of the body: scanBody checks that it ends with '}', where every loop
   * here stops (and a read past the end would slow every read of this loop down).
   */
  private numbers (): number {
    const b = this.bytes
    let i = this.pos
    let scratch = this.scratch
    let count = this.count
    let integers = this.integers
    let finite = this.finite
    const first = count
    for (;;) {
      const start = i
      let c = b[i] as number
      const negative = c === Byte.Minus
      if (negative) c = b[++i] as number
      let hi = 0
      let digits = 0
      let exponent = 0
      let integer = true
      if (c === Byte.Zero) {
        c = b[++i] as number
      } else if (c >= Byte.One && c <= Byte.Nine) {
        do {
          hi = hi * 10 + (c - Byte.Zero)
          digits++
          c = b[++i] as number
        } while (digits < 9 && c >= Byte.Zero && c <= Byte.Nine)
        while (c >= Byte.Zero && c <= Byte.Nine) {
          exponent++
          c = b[++i] as number
        }
      } else {
        return -1
      }
      let truncated = exponent > 0
      if (c === Byte.Dot) {
        integer = false
        c = b[++i] as number
        if (c < Byte.Zero || c > Byte.Nine) return -1
        if (digits === 0) {
          while (c === Byte.Zero) {
            exponent--
            c = b[++i] as number
          }
        }
        while (digits < 9 && c >= Byte.Zero && c <= Byte.Nine) {
          if (digits > 0 || c !== Byte.Zero) digits++
          hi = hi * 10 + (c - Byte.Zero)
          exponent--
          c = b[++i] as number
        }
        if (c >= Byte.Zero && c <= Byte.Nine) {
          truncated = true
          do c = b[++i] as number
          while (c >= Byte.Zero && c <= Byte.Nine)
        }
      }
      if (c === Byte.LowerE || c === Byte.UpperE) {
        integer = false
        c = b[++i] as number
        const minus = c === Byte.Minus
        if (minus || c === Byte.Plus) c = b[++i] as number
        if (c < Byte.Zero || c > Byte.Nine) return -1
        let e = 0
        do {
          if (e < 100000) e = e * 10 + (c - Byte.Zero)
          c = b[++i] as number
        } while (c >= Byte.Zero && c <= Byte.Nine)
        exponent += minus ? -e : e
      }
      let v = 0
      if (hi !== 0) {
        if (!truncated && exponent >= -22 && exponent <= 22) {
          v = exponent < 0 ? hi / (POW10[-exponent] as number) : hi * (POW10[exponent] as number)
        } else if (!(truncated && integer) && exponent >= -290 && exponent <= 290) {
          const scale = exponent < 0 ? INV_POW10[-exponent] as number : POW10[exponent] as number
          v = hi * scale
          const top = truncated ? (hi + 1) * scale : v
          if (top > 3.4e38 || Math.fround(v * LOWER) !== Math.fround(top * UPPER)) v = this.exact(start, i)
        } else {
          v = this.exact(start, i)
        }
      }
      if (negative) v = -v
      if (!(v <= F32_MAX && v >= -F32_MAX)) finite = false
      if (!integer || v > INT32_MAX || v < -INT32_MAX) integers = false
      if (count === scratch.length) {
        const grown = new Float64Array(scratch.length * 2)
        grown.set(scratch)
        scratch = grown
      }
      scratch[count++] = v
      while (c === Byte.Space || c === Byte.Newline || c === Byte.Return || c === Byte.Tab) c = b[++i] as number
      if (c === Byte.CloseBracket) break
      if (c !== Byte.Comma) return -1
      c = b[++i] as number
      while (c === Byte.Space || c === Byte.Newline || c === Byte.Return || c === Byte.Tab) c = b[++i] as number
    }
    this.pos = i + 1
    this.scratch = scratch
    this.count = count
    this.integers = integers
    this.finite = finite
    return count - first
  }

  /** The magnitude of the number in bytes [start, end), read exactly. */
  private exact (start: number, end: number): number {
    return Math.abs(Number(this.text(start, end)))
  }
}

/**
 * The body as an object whose `packed` keys hold PackedArrays (when they are rectangular arrays of
 * numbers) and whose other values are what JSON.parse gives; undefined when the fast path does not
 * apply, including for every invalid body and every forbidden key.
 */
export function scanBody (bytes: Buffer, packed: ReadonlySet<string>): Record<string, unknown> | undefined {
  // The body must end with '}' (then whitespace): the number loops rely on it to stop in bounds.
  let last = bytes.length
  while (last > 0 && isSpace(bytes[last - 1] as number)) last--
  if (last === 0 || bytes[last - 1] !== Byte.CloseBrace) return undefined
  const text = (start: number, end: number): string => bytes.toString('latin1', start, end)
  const s = new Scanner(bytes, text)
  if (s.ws() !== Byte.OpenBrace) return undefined
  s.pos++
  const body: Record<string, unknown> = {}
  let c = s.ws()
  if (c === Byte.CloseBrace) return s.pos + 1 === last ? body : undefined
  for (;;) {
    if (c !== Byte.Quote) return undefined
    s.pos++
    const key = s.key()
    if (key === undefined || FORBIDDEN_KEYS.has(key) || Object.hasOwn(body, key)) return undefined
    if (s.ws() !== Byte.Colon) return undefined
    s.pos++
    c = s.ws()
    const array = c === Byte.OpenBracket && packed.has(key) ? s.packed() : undefined
    if (array !== undefined) {
      body[key] = array
    } else {
      const start = s.pos
      const end = s.valueEnd()
      if (end <= start) return undefined
      const text = bytes.toString('utf8', start, end)
      // Before JSON.parse, which is slow on deep nesting; one level is the body's object.
      if (!wellFormed(text, 1)) return undefined
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        return undefined
      }
      if (hasForbiddenKey(value)) return undefined
      body[key] = value
      s.pos = end
    }
    c = s.ws()
    s.pos++
    if (c === Byte.CloseBrace) break
    if (c !== Byte.Comma) return undefined
    c = s.ws()
  }
  return s.pos === last ? body : undefined
}

const isSpace = (c: number): boolean => c === Byte.Space || c === Byte.Newline || c === Byte.Return || c === Byte.Tab

function hasForbiddenKey (value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (Array.isArray(value)) return value.some(hasForbiddenKey)
  return Object.keys(value).some((key) => FORBIDDEN_KEYS.has(key) || hasForbiddenKey((value as Record<string, unknown>)[key]))
}
