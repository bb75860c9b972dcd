/**
 * The seeded PRNG of every test input, bench body and golden fixture: mulberry32, uniforms in [0, 1)
 * with 32 random bits each. test/golden/generate.py holds its Python port, checked against this one
 * bit for bit (test/unit/golden-inputs.test.ts).
 */
export function mulberry32 (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
