/** V2 request parameters and output selection, checked with messages in V2's names. */
import { invalid } from '../../errors.js'
import type { InferRequest, Parameters } from '../../../schemas/v2.js'
import { MODELS, type ModelName, type Need, type OutputSpec } from './models.js'
import { METRIC_NEEDS } from './metric-outputs.js'
import { describe } from './tensors.js'

export interface OutputRequest {
  readonly spec: OutputSpec
  readonly binary: boolean
}

export function stringParam<T extends string> (parameters: Parameters, key: string, allowed: readonly T[], fallback: T): T {
  const value = parameters[key]
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    return invalid(`parameters.${key} = ${describe(value)} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`)
  }
  return value as T
}

export function numberParam (parameters: Parameters, key: string, fallback: number, integer = false): number {
  const value = parameters[key]
  if (value === undefined) return fallback
  if (typeof value !== 'number' || (integer && !Number.isSafeInteger(value))) {
    return invalid(`parameters.${key} = ${describe(value)} must be ${integer ? 'an integer' : 'a number'}`)
  }
  return value
}

export function booleanParam (parameters: Parameters | undefined, key: string, where: string): boolean | undefined {
  const value = parameters?.[key]
  if (value === undefined || typeof value === 'boolean') return value
  return invalid(`${where}parameters.${key} = ${describe(value)} must be true or false`)
}

const NEEDS: Readonly<Record<Need, string>> = {
  breakdown: 'parameters.breakdown = true',
  hardest: 'parameters.hardest = k, the number of rows to list',
  class_counts: 'the input class_counts and parameters.class_balance_beta',
  ...METRIC_NEEDS
}

/**
 * The outputs to return: without `outputs`, every output of the model the request asked for (the
 * analysis ones only with their parameter or input); with it, the ones named, in its order.
 */
export function outputRequests (model: ModelName, request: InferRequest, asked: ReadonlySet<Need>, specs: readonly OutputSpec[] = MODELS[model].outputs): OutputRequest[] {
  const all = booleanParam(request.parameters, 'binary_data_output', '') ?? false
  if (request.outputs === undefined) {
    return specs.filter((spec) => spec.needs === undefined || asked.has(spec.needs)).map((spec) => ({ spec, binary: all }))
  }
  const seen = new Set<string>()
  return request.outputs.map((output, i) => {
    const where = `outputs[${i}] (${output.name})`
    const spec = specs.find((s) => s.name === output.name)
    if (spec === undefined) return invalid(`${where} is not an output of model ${model}; the outputs are ${specs.map((s) => s.name).join(', ')}`)
    if (spec.needs !== undefined && !asked.has(spec.needs)) invalid(`${where} needs ${NEEDS[spec.needs]}`)
    if (seen.has(output.name)) invalid(`${where}: output ${output.name} is requested twice`)
    seen.add(output.name)
    for (const key of Object.keys(output.parameters ?? {})) {
      if (key !== 'binary_data') invalid(`${where}: parameters.${key} is not supported; the only output parameter is binary_data`)
    }
    return { spec, binary: booleanParam(output.parameters, 'binary_data', `${where}: `) ?? all }
  })
}
