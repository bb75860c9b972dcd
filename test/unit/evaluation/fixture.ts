/**
 * test/golden/metrics.json as collect() inputs: a case's request (logits, labels, activation,
 * ignoreIndex, options, perClassLoss) turned into typed arrays.
 */
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
