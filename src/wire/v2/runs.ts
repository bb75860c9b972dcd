/**
 * A V2 inference request that adds its batch to an evaluation run: model `compare` with
 * `parameters.run_id` and `parameters.batch_id`. The run fixes the options, so the request brings
 * only the batch (the inputs logits and labels, JSON or binary) and may repeat scoring parameters,
 * which must then equal the run's. The answer is the batch's compare outputs, as the run's options
 * ask for them, with the run's progress in the response's parameters.
 */
import { invalid } from '../../errors.js'
import type { ScoreRequest } from '../../dataplane/index.js'
import type { BatchOutcome } from '../../dataplane/runs/index.js'
import { DEFAULTS, type LossInput, type Reduction } from '../../losses/index.js'
import type { CompareLossesBody } from '../../../schemas/losses.js'
import type { InferRequest, InferResponse, Parameters } from '../../../schemas/v2.js'
import type { FrameInfo } from './binary.js'
import { PROTOCOL_PARAMETERS, type ModelName, type Need } from './models.js'
import { namedOutputs } from './losses.js'
import { outputRequests, type OutputRequest } from './parameters.js'
import { describe, gather, readFloats, readLabels, shapeText, type RawInput } from './tensors.js'

/** The scoring options a run was created with (the JSON API's fields). */
type RunOptions = Omit<CompareLossesBody, 'logits' | 'labels'>

/** Each scoring parameter a batch may repeat, with the run's value of it in V2's terms. */
const REPEATABLE: Readonly<Record<string, { field: string, of: (o: RunOptions) => unknown }>> = {
  activation: { field: 'activation', of: (o) => o.activation ?? DEFAULTS.activation },
  ignore_index: { field: 'ignoreIndex', of: (o) => o.ignoreIndex ?? DEFAULTS.ignoreIndex },
  label_smoothing: { field: 'labelSmoothing', of: (o) => o.labelSmoothing ?? DEFAULTS.labelSmoothing },
  gamma: { field: 'gamma', of: (o) => o.gamma ?? DEFAULTS.gamma },
  // -1 is V2's spelling of the JSON API's null (no balancing); a per-class alpha is no parameter.
  alpha: { field: 'alpha', of: (o) => o.alpha === null ? -1 : o.alpha ?? DEFAULTS.alpha },
  breakdown: { field: 'breakdown', of: (o) => o.breakdown ?? false },
  hardest: { field: 'hardest', of: (o) => o.hardest },
  class_balance_beta: { field: 'classBalance.beta', of: (o) => o.classBalance?.beta }
}

export interface RunInfer {
  readonly runId: string
  readonly batchId: string
  readonly input: LossInput
}

/** Whether a request is meant for a run: it names one. */
export function isRunInfer (request: InferRequest): boolean {
  const parameters = request.parameters ?? {}
  return parameters.run_id !== undefined || parameters.batch_id !== undefined
}

function idParam (parameters: Parameters, key: string): string {
  const value = parameters[key]
  if (typeof value !== 'string') {
    invalid(value === undefined
      ? 'parameters.run_id and parameters.batch_id go together: a batch of a run needs both'
      : `parameters.${key} = ${describe(value)} must be a string`)
  }
  return value
}

/** The run, the batch id and the batch; every input and parameter that is not the batch's is refused. */
export function decodeRunInfer (model: ModelName, request: InferRequest, frame: FrameInfo): RunInfer {
  if (model !== 'compare') invalid(`parameters.run_id: batches are added to a run through model compare, not ${model}`)
  const parameters = request.parameters ?? {}
  const runId = idParam(parameters, 'run_id')
  const batchId = idParam(parameters, 'batch_id')
  if (runId.length > 64) invalid(`parameters.run_id = ${describe(runId)} is longer than a run id (64 characters)`)
  for (const key of Object.keys(parameters)) {
    if (key === 'run_id' || key === 'batch_id' || Object.hasOwn(REPEATABLE, key) || PROTOCOL_PARAMETERS.has(key) || key.startsWith('triton_')) continue
    invalid(`parameters.${key} is not a parameter of a run's batch; it takes run_id, batch_id and, equal to the run's, ${Object.keys(REPEATABLE).join(', ')}`)
  }
  const raw = gather(model, request.inputs, frame.binary, frame.jsonLength)
  for (const [name, input] of raw) {
    if (name !== 'logits' && name !== 'labels') invalid(`${input.label} is the run's to set: a batch of a run takes the inputs logits and labels only`)
  }
  const logitsRaw = raw.get('logits') as RawInput
  const labelsRaw = raw.get('labels') as RawInput
  if (logitsRaw.shape.length < 1 || logitsRaw.shape.length > 3) {
    invalid(`${logitsRaw.label} has shape ${shapeText(logitsRaw.shape)}; logits are [N, C], [N] or [N, C, T]`)
  }
  return { runId, batchId, input: { logits: readFloats(logitsRaw), shape: logitsRaw.shape, labels: readLabels(labelsRaw, logitsRaw.shape) } }
}

/** A scoring parameter the batch repeats must equal the run's option, defaults applied. */
export function checkRunParameters (request: InferRequest, options: RunOptions): void {
  for (const [key, value] of Object.entries(request.parameters ?? {})) {
    const repeatable = REPEATABLE[key]
    if (repeatable === undefined) continue
    const run = repeatable.of(options)
    if (value !== run) {
      invalid(`parameters.${key} = ${describe(value)} does not match the run's ${repeatable.field} = ${Array.isArray(run) ? 'a per-class vector' : JSON.stringify(run ?? null)}`)
    }
  }
}

/** The outputs of the batch: compare's (`<name>_<field>` for a run's `losses`), with the analysis ones the run's options keep. */
export function runOutputs (request: InferRequest, options: RunOptions, names: readonly string[]): OutputRequest[] {
  const asked = new Set<Need>()
  if (options.breakdown === true) asked.add('breakdown')
  if (options.hardest !== undefined) asked.add('hardest')
  if (options.classBalance !== undefined) asked.add('class_counts')
  return options.losses === undefined ? outputRequests('compare', request, asked) : outputRequests('compare', request, asked, namedOutputs(names))
}

/** The reduction a run's batch states, as the compare model does: its first loss's (asymmetric's default is sum). */
export function runReduction (request: ScoreRequest): Reduction {
  return (request.losses[0]?.options as { reduction?: Reduction } | undefined)?.reduction ?? 'mean'
}

/** What the response's parameters say of the run, next to the reduction its losses use, which every V2 answer echoes. */
export function runParameters (runId: string, batchId: string, progress: BatchOutcome['progress'], replayed: boolean, reduction: Reduction): InferResponse['parameters'] {
  return { reduction, run_id: runId, batch_id: batchId, run_batches: progress.batches, run_rows: progress.rows, replayed }
}
