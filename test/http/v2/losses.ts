/**
 * JSON API bodies of issue 10's losses (test/golden/losses.json, /loss/compare with `losses`) as V2
 * requests: vectors and class counts as tensors, the other options as snake_case parameters, a
 * `losses` list as the JSON string parameter with snake_case keys.
 */
import { flatten } from '../../golden/inputs.js'
import type { Tensor } from './client.js'
import { shapeOf, type Parameters } from './golden.js'

export const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

const VECTORS: Readonly<Record<string, string>> = { weight: 'weight', posWeight: 'pos_weight', classCounts: 'class_counts' }

/** An entry of `losses` with snake_case keys, its class counts left in it. */
export function entryToV2 (entry: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entry).map(([k, v]) => [snake(k), v]))
}

/** Body number `i` as V2 tensors and parameters; datatypes rotate with `i`. */
export function lossToV2 (body: Record<string, unknown>, i: number): { tensors: Tensor[], parameters: Parameters } {
  const logitsShape = shapeOf(body.logits)
  const labelsShape = shapeOf(body.labels)
  const index = logitsShape.length > 1 && labelsShape.length === logitsShape.length - 1
  const tensors: Tensor[] = [
    { name: 'logits', datatype: i % 4 === 3 ? 'FP64' : 'FP32', shape: logitsShape, values: flatten(body.logits) },
    { name: 'labels', datatype: index ? (i % 2 === 0 ? 'INT64' : 'INT32') : (i % 3 === 2 ? 'FP64' : 'FP32'), shape: labelsShape, values: flatten(body.labels) }
  ]
  const parameters: Parameters = {}
  const counts = (name: string, values: number[]): Tensor => {
    const types = values.every(Number.isInteger) ? ['INT64', 'FP64', 'FP32'] : ['FP64']
    return { name, datatype: types[i % types.length] ?? 'FP64', shape: [values.length], values }
  }
  for (const [key, value] of Object.entries(body)) {
    if (key === 'logits' || key === 'labels') continue
    const vector = VECTORS[key]
    if (key === 'classCounts') {
      tensors.push(counts('class_counts', value as number[]))
    } else if (vector !== undefined || (key === 'alpha' && Array.isArray(value))) {
      const values = value as number[]
      tensors.push({ name: vector ?? key, datatype: i % 5 === 4 ? 'FP64' : 'FP32', shape: [values.length], values })
    } else if (key === 'alpha' && value === null) {
      parameters.alpha = -1
    } else if (key === 'classBalance') {
      const { counts: n, beta } = value as { counts: number[], beta: number }
      tensors.push(counts('class_counts', n))
      parameters.class_balance_beta = beta
    } else if (key === 'losses') {
      parameters.losses = JSON.stringify((value as Array<Record<string, unknown>>).map(entryToV2))
    } else {
      parameters[snake(key)] = value as string | number | boolean
    }
  }
  return { tensors, parameters }
}
