/**
 * test/golden/metrics.json as collect() inputs: a case's request (logits, labels, activation,
 * ignoreIndex, options, perClassLoss) turned into typed arrays.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { flatten, materialize, type GenSpec } from '../../golden/inputs.js'
import type { Activation, LossInput } from '../../../src/losses/types.js'
import { metricsOptions, type MetricsOptions, type RawMetricsOptions } from '../../../src/evaluation/options.js'

export interface MetricsCase {
  name: string
  kind: 'multiclass' | 'multilabel' | 'binary'
  request: {
    activation: Activation
    logits: unknown
    labels: unknown
    labelKind: 'index' | 'dense'
    ignoreIndex?: number
    options?: RawMetricsOptions
    perClassLoss?: Record<string, unknown>
  }
  expected: Record<string, any>
  onBinEdge: number
}

export interface MetricsFixture {
  linspace: Record<string, number[]>
  linspaceFnv1a: Record<string, number>
  gens: Array<{ $gen: GenSpec, count: number, fnv1a: number }>
  cases: MetricsCase[]
}

export const fixture = JSON.parse(readFileSync(new URL('../../golden/metrics.json', import.meta.url), 'utf8')) as MetricsFixture

function shapeOf (v: unknown): number[] {
  const shape: number[] = []
  let at = v
  while (Array.isArray(at)) {
    shape.push(at.length)
    at = at[0]
  }
  return shape
}

export interface Prepared {
  input: LossInput
  activation: Activation
  ignoreIndex: number
  options: MetricsOptions
  perClassLoss: Record<string, Float64Array> | undefined
}

export function prepare (c: MetricsCase): Prepared {
  const { request } = c
  const logits = materialize(request.logits)
  const labels = materialize(request.labels)
  const shape = shapeOf(logits)
  const labelShape = shapeOf(labels)
  const input: LossInput = {
    logits: new Float32Array(flatten(logits)),
    shape,
    labels: request.labelKind === 'index'
      ? { kind: 'index', data: new Int32Array(flatten(labels)), shape: labelShape }
      : { kind: 'dense', data: new Float32Array(flatten(labels)), shape: labelShape }
  }
  const classes = shape.length === 1 ? 1 : shape[1] as number
  const perClassLoss = request.perClassLoss === undefined
    ? undefined
    : Object.fromEntries(Object.entries(request.perClassLoss).map(([k, v]) => [k, new Float64Array(flatten(materialize(v)))]))
  return {
    input,
    activation: request.activation,
    ignoreIndex: request.ignoreIndex ?? -100,
    options: metricsOptions(request.options ?? {}, classes, (f) => f),
    perClassLoss
  }
}

const RTOL = 1e-5
const ATOL = 1e-6
const EXACT = new Set(['rows', 'count', 'lower', 'upper', 'classes', 'confusion'])

/** The largest error seen by `compare`, in units of its tolerance, and where. */
export const worst = { error: 0, what: '' }

/**
 * Asserts `got` equals the fixture's `want`: counts, bin edges and confusion exactly, other numbers
 * within |d| <= 1e-6 + 1e-5 |want|, null exactly where torchmetrics gives NaN.
 */
export function compare (got: unknown, want: unknown, what: string, exact = false): void {
  if (want === null) {
    assert.equal(got, null, what)
  } else if (typeof want === 'number') {
    assert.equal(typeof got, 'number', `${what}: got ${JSON.stringify(got)}`)
    if (exact) {
      assert.equal(got, want, what)
      return
    }
    const error = Math.abs((got as number) - want)
    assert.ok(error <= ATOL + RTOL * Math.abs(want), `${what}: ${String(got)} vs ${want}`)
    const scaled = error / (ATOL + RTOL * Math.abs(want))
    if (scaled > worst.error) Object.assign(worst, { error: scaled, what })
  } else if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${what}: not an array`)
    assert.equal(got.length, want.length, `${what}: length`)
    want.forEach((w, i) => compare(got[i], w, `${what}[${i}]`, exact))
  } else {
    const g = got as Record<string, unknown>
    const w = want as Record<string, unknown>
    assert.deepEqual(Object.keys(g).sort(), Object.keys(w).sort(), `${what}: keys`)
    for (const k of Object.keys(w)) compare(g[k], w[k], `${what}.${k}`, exact || EXACT.has(k))
  }
}
