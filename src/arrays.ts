/**
 * Zeroed typed arrays for the request path, carved out of shared slabs. A `new Float32Array(n)` of
 * more than 64 bytes allocates its own ArrayBuffer outside V8's heap, which costs 1–5 µs on the
 * 2-core bench machine, and a small request made about ten of them; a view into a slab costs a
 * fraction of that. A slab is used once, front to back, and freed by the GC when the last view into
 * it is, so every array handed out is zeroed, like a new one. Arrays over SLAB_BYTES / 16 get their
 * own buffer, so nothing large shares a slab and a stray long-lived view pins at most one slab.
 */
const SLAB_BYTES = 256 * 1024
const OWN_BYTES = SLAB_BYTES / 16

let slab = new ArrayBuffer(SLAB_BYTES)
let offset = 0

/** The byte offset of `bytes` fresh bytes in `slab`, 8-byte aligned (for Float64Array too). */
function carve (bytes: number): number {
  if (offset + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES)
    offset = 0
  }
  const at = offset
  offset += (bytes + 7) & ~7
  return at
}

export function float32 (n: number): Float32Array {
  if (n * 4 > OWN_BYTES) return new Float32Array(n)
  const at = carve(n * 4)
  return new Float32Array(slab, at, n)
}

export function float64 (n: number): Float64Array {
  if (n * 8 > OWN_BYTES) return new Float64Array(n)
  const at = carve(n * 8)
  return new Float64Array(slab, at, n)
}

export function int32 (n: number): Int32Array {
  if (n * 4 > OWN_BYTES) return new Int32Array(n)
  const at = carve(n * 4)
  return new Int32Array(slab, at, n)
}

/** A float32 copy of `values` (rounded as Float32Array does). */
export function float32Of (values: ArrayLike<number>): Float32Array {
  const out = float32(values.length)
  out.set(values)
  return out
}

/** An int32 copy of `values` (truncated as Int32Array does). */
export function int32Of (values: ArrayLike<number>): Int32Array {
  const out = int32(values.length)
  out.set(values)
  return out
}
