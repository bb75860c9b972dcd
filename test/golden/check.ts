/**
 * Comparing replies with golden expectations (test/golden/*.json).
 *
 * Tolerance: |actual - expected| <= ATOL + RTOL * |expected|, per number. RTOL covers float32
 * arithmetic (PyTorch's own float32 results are up to 3.3e-7 off in scalars, 5.9e-5 in `none` elements
 * where BCE cancels, test/golden/README.md); ATOL covers values that are 0 in float32 but 1e-9 in float64.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { flatten } from './inputs.js'

export const RTOL = 2e-5
export const ATOL = 1e-6

export interface GoldenCase {
  name: string
  endpoint: 'ce' | 'focal' | 'compare'
  request: Record<string, unknown>
  expected: { loss: unknown, sum: number, normalizer: number, [key: string]: unknown }
  reference: string
}

interface Summary { count: number, shape: number[], sum: number, sumAbs: number, max: number, sample: Array<[number, number]> }

export function loadCases (file: string): GoldenCase[] {
  return (JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as { cases: GoldenCase[] }).cases
}

/** Largest |actual - expected| / max(|expected|, ATOL / RTOL) seen, per backend, for the report. */
export const worst = { relative: 0, name: '' }

export function close (actual: unknown, expected: number, what: string): void {
  assert.equal(typeof actual, 'number', `${what}: expected a number, got ${JSON.stringify(actual)}`)
  const a = actual as number
  const error = Math.abs(a - expected)
  assert.ok(error <= ATOL + RTOL * Math.abs(expected), `${what}: ${a} vs ${expected} (|d| = ${error.toExponential(2)})`)
  const relative = error / Math.max(Math.abs(expected), ATOL / RTOL)
  if (relative > worst.relative) Object.assign(worst, { relative, name: what })
}

/** Compares a reply ({loss, sum, normalizer}) with the expected values of a case. */
export function checkReply (reply: { loss: unknown, sum: unknown, normalizer: unknown }, c: GoldenCase, via: string): void {
  const what = `${c.name} via ${via}`
  assert.equal(reply.normalizer, c.expected.normalizer, `${what}: normalizer`)
  close(reply.sum, c.expected.sum, `${what}: sum`)
  const loss = c.expected.loss
  if (loss === null) {
    assert.equal(reply.loss, null, `${what}: loss`)
  } else if (typeof loss === 'number') {
    close(reply.loss, loss, `${what}: loss`)
  } else {
    const got = flatten(reply.loss)
    const summary = (loss as { $summary?: Summary }).$summary
    if (summary === undefined) {
      const want = flatten(loss)
      assert.equal(got.length, want.length, `${what}: none length`)
      want.forEach((w, i) => close(got[i], w, `${what}: loss[${i}]`))
    } else {
      assert.equal(got.length, summary.count, `${what}: none length`)
      for (const [i, w] of summary.sample) close(got[i], w, `${what}: loss[${i}]`)
      close(got.reduce((m, v) => Math.max(m, v), -Infinity), summary.max, `${what}: max`)
    }
  }
}
