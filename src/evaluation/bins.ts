/**
 * The float32 grids torchmetrics bins on: `torch.linspace(0, 1, steps)` (calibration boundaries with
 * steps = bins + 1, AP/AUROC thresholds with steps = K), bit for bit as torch 1.13's CPU kernel
 * makes them, and the bucket of a value in such a grid.
 */

const cache = new Map<number, Float64Array>()

/**
 * torch 1.13 `linspace_kernel` (aten/native/cpu/RangeFactoriesKernel.cpp) with its AVX2 path: blocks
 * of 2 x 8 floats start from `step * idx` or `end - step * (steps - idx - 1)` (a fused multiply-add,
 * one rounding) and add `j * step` without one; the tail is scalar. Checked against torch for every
 * steps in [2, 10001] (test/golden/generate_metrics.py); correctly rounded i/n differs for most.
 */
export function linspace32 (steps: number): Float64Array {
  const hit = cache.get(steps)
  if (hit !== undefined) return hit
  const out = new Float64Array(steps)
  if (steps > 1) {
    const step = Math.fround(1 / (steps - 1))
    const half = Math.floor(steps / 2)
    // Both products and the difference are exact in float64, so fround is the one rounding of an FMA.
    const at = (idx: number): number => idx < half ? Math.fround(step * idx) : Math.fround(1 - step * (steps - idx - 1))
    let i = 0
    for (; i <= steps - 16; i += 16) {
      for (let b = i; b < i + 16; b += 8) {
        const base = at(b)
        for (let j = 0; j < 8; j++) out[b + j] = Math.fround(base + Math.fround(j * step))
      }
    }
    for (; i < steps; i++) out[i] = at(i)
  }
  cache.set(steps, out)
  return out
}

/**
 * How many grid values are <= v, minus 1: `torch.bucketize(v, grid, right=True) - 1`. For a grid of
 * bins + 1 boundaries this is the bin of v, and `bins` itself for v >= 1 (torchmetrics' extra bin).
 */
export function bucket (v: number, grid: Float64Array): number {
  const last = grid.length - 1
  let j = Math.floor(v * last)
  if (j > last) j = last
  if (j < 0) j = 0
  while (j < last && (grid[j + 1] as number) <= v) j++
  while (j > 0 && (grid[j] as number) > v) j--
  return (grid[0] as number) <= v ? j : -1
}
