/**
 * A JSON body read straight from its bytes, with the batch arrays (`logits`, `labels`) going into
 * flat typed arrays as they are read: no string of the body, no JS array per row, no boxed number.
 * JSON.parse plus the walk into typed arrays was half the CPU of a 64×10 request and most of a
 * 7.6 MB one.
 *
 * It is the fast path only: anything it does not handle (a syntax error, an escaped or repeated key,
 * a forbidden key) makes it answer undefined, and the caller parses the body with JSON.parse as
 * before; an array it cannot pack (ragged, empty, rank above 3) is left to JSON.parse and the
 * decoder. So every message a client sees comes from one place. The values it gives are the ones
 * JSON.parse gives, converted to float32 the same way: fast-check compares the two on random bodies.
 */
import { float32Of, int32Of } from '../arrays.js'

const F32_MAX = 3.4028234663852886e38
const INT32_MAX = 0x7fffffff
/** Powers of ten as doubles; exact up to 1e22, correctly rounded beyond. */
const POW10 = Float64Array.from({ length: 309 }, (_, i) => Number(`1e${i}`))
/**
 * Half-width of the interval, relative to the value, known to hold the exact decimal when it was
 * computed approximately (up to 18 digits in two exact parts joined by two roundings, one inexact
 * power of ten, one multiplication or division: under 2^-50 of error). Generous on purpose: it only
 * decides when to re-read a number exactly.
 */
const SLACK = 2 ** -44
const MAX_RANK = 3

const enum Byte {
  Tab = 9, Newline = 10, Return = 13, Space = 32, Quote = 34, Plus = 43, Comma = 44, Minus = 45,
  Dot = 46, Zero = 48, One = 49, Nine = 57, Colon = 58, UpperE = 69, OpenBracket = 91, Backslash = 92,
  CloseBracket = 93, LowerE = 101, OpenBrace = 123, CloseBrace = 125
}

/** Keys that pollute prototypes if a parsed body is ever merged into another object. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * A rectangular nested array of JSON numbers (rank 1 to 3), as read from the body: its shape, every
 * number as float32, and as int32 too when every one is an integer literal in int32's range.
 */
export class PackedArray {
  constructor (
    readonly shape: readonly number[],
    readonly values: Float32Array,
    /** Set when every number was written as an integer (no fraction, no exponent) within ±(2^31 - 1). */
    readonly ints: Int32Array | undefined,
    /** Every number is within ±F32_MAX, so `values` holds no infinity. */
    readonly finite: boolean,
    private readonly text: () => string
  ) {}

  /** The array as JSON.parse gives it, for the checks and messages of the general decoder. */
  parse (): unknown {
    return JSON.parse(this.text())
  }
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
  skip (): number {
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
    return new PackedArray(
      [...this.shape],
      float32Of(values),
      this.integers ? int32Of(values) : undefined,
      this.finite,
      () => this.text(start, end)
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
   * Significant digits go into two integers of up to 9 digits each (integer arithmetic: a chain of
   * double multiply-adds per digit was slower). Up to 15 digits with a decimal exponent within ±22
   * the double is exact (one correctly rounded operation on exact operands: Clinger's fast path). Up
   * to 18 digits it is approximate, but its float32 rounding is certain when the whole interval it
   * may be off by rounds to one float32; otherwise, and beyond 18 digits, the number is re-read
   * with Number().
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
      let c = b[i] ?? 0
      const negative = c === Byte.Minus
      if (negative) c = b[++i] ?? 0
      let hi = 0
      let lo = 0
      let nHi = 0
      let nLo = 0
      let exponent = 0
      let integer = true
      let many = false
      if (c === Byte.Zero) {
        c = b[++i] ?? 0
      } else if (c >= Byte.One && c <= Byte.Nine) {
        do {
          if (nHi < 9) {
            hi = hi * 10 + (c - Byte.Zero)
            nHi++
          } else if (nLo < 9) {
            lo = lo * 10 + (c - Byte.Zero)
            nLo++
          } else {
            many = true
          }
          c = b[++i] ?? 0
        } while (c >= Byte.Zero && c <= Byte.Nine)
      } else {
        return -1
      }
      if (c === Byte.Dot) {
        integer = false
        c = b[++i] ?? 0
        if (c < Byte.Zero || c > Byte.Nine) return -1
        if (nHi === 0) {
          while (c === Byte.Zero) {
            exponent--
            c = b[++i] ?? 0
          }
        }
        while (c >= Byte.Zero && c <= Byte.Nine) {
          if (nHi < 9) {
            hi = hi * 10 + (c - Byte.Zero)
            nHi++
            exponent--
          } else if (nLo < 9) {
            lo = lo * 10 + (c - Byte.Zero)
            nLo++
            exponent--
          } else {
            many = true
          }
          c = b[++i] ?? 0
        }
      }
      if (c === Byte.LowerE || c === Byte.UpperE) {
        integer = false
        c = b[++i] ?? 0
        const minus = c === Byte.Minus
        if (minus || c === Byte.Plus) c = b[++i] ?? 0
        if (c < Byte.Zero || c > Byte.Nine) return -1
        let e = 0
        do {
          if (e < 100000) e = e * 10 + (c - Byte.Zero)
          c = b[++i] ?? 0
        } while (c >= Byte.Zero && c <= Byte.Nine)
        exponent += minus ? -e : e
      }
      let v = 0
      if (hi !== 0) {
        const w = nLo === 0 ? hi : hi * (POW10[nLo] ?? 1) + lo
        if (!many && nHi + nLo <= 15 && exponent >= -22 && exponent <= 22) {
          v = exponent < 0 ? w / (POW10[-exponent] ?? 1) : w * (POW10[exponent] ?? 1)
        } else if (!many && exponent >= -290 && exponent <= 290) {
          v = exponent < 0 ? w / (POW10[-exponent] ?? 1) : w * (POW10[exponent] ?? 1)
          const slack = v * SLACK
          if (v > 3.4e38 || Math.fround(v - slack) !== Math.fround(v + slack)) v = Math.abs(this.exact(start, i))
        } else {
          v = Math.abs(this.exact(start, i))
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
      while (c === Byte.Space || c === Byte.Newline || c === Byte.Return || c === Byte.Tab) c = b[++i] ?? 0
      if (c === Byte.CloseBracket) break
      if (c !== Byte.Comma) return -1
      c = b[++i] ?? 0
      while (c === Byte.Space || c === Byte.Newline || c === Byte.Return || c === Byte.Tab) c = b[++i] ?? 0
    }
    this.pos = i + 1
    this.scratch = scratch
    this.count = count
    this.integers = integers
    this.finite = finite
    return count - first
  }

  private exact (start: number, end: number): number {
    return Number(this.text(start, end))
  }
}

/**
 * The body as an object whose `packed` keys hold PackedArrays (when they are rectangular arrays of
 * numbers) and whose other values are what JSON.parse gives; undefined when the fast path does not
 * apply, including for every invalid body and every forbidden key.
 */
export function scanBody (bytes: Buffer, packed: ReadonlySet<string>): Record<string, unknown> | undefined {
  const text = (start: number, end: number): string => bytes.toString('latin1', start, end)
  const s = new Scanner(bytes, text)
  if (s.ws() !== Byte.OpenBrace) return undefined
  s.pos++
  const body: Record<string, unknown> = {}
  let c = s.ws()
  if (c === Byte.CloseBrace) {
    s.pos++
    return s.ws() === 0 && s.pos === bytes.length ? body : undefined
  }
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
      const end = s.skip()
      if (end <= start) return undefined
      let value: unknown
      try {
        value = JSON.parse(bytes.toString('utf8', start, end))
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
  return s.ws() === 0 && s.pos === bytes.length ? body : undefined
}

function hasForbiddenKey (value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (Array.isArray(value)) return value.some(hasForbiddenKey)
  return Object.keys(value).some((key) => FORBIDDEN_KEYS.has(key) || hasForbiddenKey((value as Record<string, unknown>)[key]))
}
