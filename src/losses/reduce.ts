/**
 * The shared reducer: sums in float64 what the kernels computed in float32, zeroes ignored rows and
 * refuses to return a non-finite number.
 */
import { at, UnrepresentableError } from '../errors.js'
import type { LossResult, Reduction } from './types.js'

export interface Reducible {
  readonly values: Float32Array
  readonly valuesShape: readonly number[]
  readonly normalizer: number
  readonly reduction: Reduction
  /** Rows whose values are forced to 0, and how many values each row holds. */
  readonly keep?: Uint8Array | undefined
  readonly rowWidth?: number
}

export function reduce ({ values, valuesShape, normalizer, reduction, keep, rowWidth = 1 }: Reducible): LossResult {
  let sum = 0
  for (let i = 0; i < values.length; i++) {
    if (keep !== undefined && keep[(i / rowWidth) | 0] === 0) {
      values[i] = 0
      continue
    }
    const v = values[i] as number
    if (!Number.isFinite(v)) {
      throw new UnrepresentableError(`the loss at ${at('index', i, valuesShape).slice('index'.length)} overflows float32; scale down the logits or weights`)
    }
    sum += v
  }
  const loss = reduction === 'sum' ? sum : reduction === 'none' || normalizer === 0 ? null : sum / normalizer
  return { reduction, loss, sum, normalizer, values, valuesShape }
}
