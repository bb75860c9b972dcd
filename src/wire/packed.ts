/** What the body scanner hands the decoder: arrays already read into typed arrays. */

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
