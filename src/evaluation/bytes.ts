/**
 * Little-endian binary writing and reading for the statistics a store keeps (metric statistics,
 * a run's state). Arrays of integers (counts) keep their non-zero values as varint (gap, value)
 * pairs; any other array is raw f64, so every double comes back bit for bit, all of them or, when
 * most are zero (one batch's per-class sums), only the others, as (varint gap, f64) pairs.
 */
import { invalid } from '../errors.js'

export class Writer {
  private buf: ArrayBuffer
  private view: DataView
  private at = 0

  constructor (size = 1024) {
    this.buf = new ArrayBuffer(size)
    this.view = new DataView(this.buf)
  }

  private room (n: number): void {
    if (this.at + n <= this.buf.byteLength) return
    const bigger = new ArrayBuffer(Math.max(this.buf.byteLength * 2, this.at + n))
    new Uint8Array(bigger).set(new Uint8Array(this.buf, 0, this.at))
    this.buf = bigger
    this.view = new DataView(bigger)
  }

  u8 (v: number): void { this.room(1); this.view.setUint8(this.at, v); this.at += 1 }
  u32 (v: number): void { this.room(4); this.view.setUint32(this.at, v, true); this.at += 4 }
  i32 (v: number): void { this.room(4); this.view.setInt32(this.at, v, true); this.at += 4 }
  f64 (v: number): void { this.room(8); this.view.setFloat64(this.at, v, true); this.at += 8 }
  bytes (v: Uint8Array): void { this.room(v.length); new Uint8Array(this.buf, this.at, v.length).set(v); this.at += v.length }

  /** A u32 byte length, then the UTF-8 bytes. */
  text (v: string): void {
    const encoded = Buffer.from(v, 'utf8')
    this.u32(encoded.length)
    this.bytes(encoded)
  }

  /** A u32 length, then the values as raw little-endian f64 (the platform's order: every Node target). */
  f64s (a: Float64Array): void {
    this.u32(a.length)
    this.bytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
  }

  /** Unsigned LEB128 of an integer in [0, 2^53), with arithmetic (bit operators stop at 2^31). */
  varint (v: number): void {
    let rest = v
    while (rest >= 128) {
      this.u8(rest % 128 + 128)
      rest = Math.floor(rest / 128)
    }
    this.u8(rest)
  }

  counts (a: Float64Array): void {
    if (!a.every((v) => Number.isSafeInteger(v) && v >= 0)) {
      this.u8(0); this.u32(a.length)
      for (const v of a) this.f64(v)
      return
    }
    // The non-zero values as (zeros skipped, value) varint pairs: most counts are small, many 0.
    let nonzero = 0
    for (const v of a) if (v !== 0) nonzero++
    this.u8(1); this.u32(a.length); this.u32(nonzero)
    let zeros = 0
    for (const v of a) {
      if (v === 0) { zeros++; continue }
      this.varint(zeros); this.varint(v)
      zeros = 0
    }
  }

  /** Raw f64, all of them, or only those other than +0 when that is smaller. */
  sums (a: Float64Array): void {
    let nonzero = 0
    for (const v of a) if (v !== 0 || Object.is(v, -0)) nonzero++
    // A pair takes a varint (1 or 2 bytes for a gap under 16384) and 8.
    if (10 * nonzero >= 8 * a.length) {
      this.u8(0); this.f64s(a)
      return
    }
    this.u8(1); this.u32(a.length); this.u32(nonzero)
    let zeros = 0
    for (const v of a) {
      if (v === 0 && !Object.is(v, -0)) { zeros++; continue }
      this.varint(zeros); this.f64(v)
      zeros = 0
    }
  }

  done (): Uint8Array { return new Uint8Array(this.buf, 0, this.at) }
}

export class Reader {
  private readonly view: DataView
  private at = 0

  /** `what` names the data in errors ("metric statistics are truncated"). */
  constructor (private readonly data: Uint8Array, private readonly what: string) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  }

  private need (n: number): void { if (this.at + n > this.data.length) invalid(`${this.what} are truncated`) }
  corrupt (): never { return invalid(`${this.what} are corrupt`) }
  u8 (): number { this.need(1); return this.view.getUint8(this.at++) }
  u32 (): number { this.need(4); const v = this.view.getUint32(this.at, true); this.at += 4; return v }
  i32 (): number { this.need(4); const v = this.view.getInt32(this.at, true); this.at += 4; return v }
  f64 (): number { this.need(8); const v = this.view.getFloat64(this.at, true); this.at += 8; return v }
  bytes (n: number): Uint8Array { this.need(n); const v = this.data.slice(this.at, this.at + n); this.at += n; return v }
  text (): string { return Buffer.from(this.bytes(this.u32())).toString('utf8') }

  f64s (): Float64Array {
    const n = this.u32()
    return new Float64Array(this.bytes(8 * n).buffer)
  }

  varint (): number {
    let v = 0
    let scale = 1
    for (;;) {
      const b = this.u8()
      v += (b % 128) * scale
      if (b < 128) return v
      scale *= 128
      if (scale > 2 ** 56) this.corrupt()
    }
  }

  counts (): Float64Array {
    const tag = this.u8()
    const out = new Float64Array(this.u32())
    if (tag === 0) {
      for (let i = 0; i < out.length; i++) out[i] = this.f64()
    } else if (tag === 1) {
      let i = -1
      for (let k = this.u32(); k > 0; k--) {
        i += this.varint() + 1
        if (i >= out.length) this.corrupt()
        out[i] = this.varint()
      }
    } else {
      this.corrupt()
    }
    return out
  }

  sums (): Float64Array {
    const tag = this.u8()
    if (tag === 0) return this.f64s()
    if (tag !== 1) this.corrupt()
    const out = new Float64Array(this.u32())
    let i = -1
    for (let k = this.u32(); k > 0; k--) {
      i += this.varint() + 1
      if (i >= out.length) this.corrupt()
      out[i] = this.f64()
    }
    return out
  }

  end (): void { if (this.at !== this.data.length) invalid(`${this.what} have trailing bytes`) }
}
