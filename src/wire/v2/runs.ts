/**
 * A V2 inference request that adds its batch to an evaluation run: model `compare` with
 * `parameters.run_id` and `parameters.batch_id`. The run fixes the options, so the request brings
 * only the batch (the inputs logits and labels, JSON or binary) and may repeat scoring parameters,
 * which must then equal the run's. The answer is the batch's compare outputs, as the run's options
 * ask for them, with the run's progress in the response's parameters.
 */
import { isDeepStrictEqual } from 'node:util'
import { invalid } from '../../errors.js'
import type { ScoreRequest } from '../../dataplane/index.js'
import type { BatchOutcome } from '../../dataplane/runs/index.js'
import { DEFAULT_BINS, DEFAULT_FEW, DEFAULT_MANY, RUN_THRESHOLDS } from '../../evaluation/options.js'
import { DEFAULTS, type LossInput, type Reduction } from '../../losses/index.js'
import type { CompareLossesBody } from '../../../schemas/losses.js'
import type { InferRequest, InferResponse, Parameters } from '../../../schemas/v2.js'
import type { FrameInfo } from './binary.js'
import { PROTOCOL_PARAMETERS, type ModelName, type Need } from './models.js'
import { namedOutputs } from './losses.js'
import { metricNeeds } from './metrics.js'
import { outputRequests, type OutputRequest } from './parameters.js'
import { describe, gather, readFloats, readLabels, shapeText, type RawInput } from './tensors.js'

/** The scoring options a run was created with (the JSON API's fields) */
type RunOptions = Omit<CompareLossesBody, 'logits' | 'labels'> & { thresholds?: number | undefined }

/** `topk` as V2 writes it: 5, "1,5" or "[1, 5]" are one list each. */
const topkList = (value: unknown): string => String(value).replace(/[[\]\s]/g, '')

/** `losses` as V2 writes it, a JSON string: equal as JSON values, whatever the order of each entry's keys. */
function sameLosses (value: unknown, run: unknown): boolean {
  if (typeof value !== 'string') return false
  try {
    return isDeepStrictEqual(JSON.parse(value), run)
  } catch {
    return false
  }
}

interface Repeatable {
  readonly field: string
  readonly of: (o: RunOptions) => unknown
  /** How the batch's value is compared with the run's; strict equality otherwise. */
  readonly same?: (value: unknown, run: unknown) => boolean
}

/** Each scoring parameter a batch may repeat, with the run's value of it in V2's terms. */
const REPEATABLE: Readonly<Record<string, Repeatable>> = {
  activation: { field: 'activation', of: (o) => o.activation ?? DEFAULTS.activation },
  ignore_index: { field: 'ignoreIndex', of: (o) => o.ignoreIndex ?? DEFAULTS.ignoreIndex },
  label_smoothing: { field: 'labelSmoothing', of: (o) => o.labelSmoothing ?? DEFAULTS.labelSmoothing },
  gamma: { field: 'gamma', of: (o) => o.gamma ?? DEFAULTS.gamma },
  // -1 is V2's spelling of the JSON API's null (no balancing); a per-class alpha is no parameter.
  alpha: { field: 'alpha', of: (o) => o.alpha === null ? -1 : o.alpha ?? DEFAULTS.alpha },
  breakdown: { field: 'breakdown', of: (o) => o.breakdown ?? false },
  hardest: { field: 'hardest', of: (o) => o.hardest },
  class_balance_beta: { field: 'classBalance.beta', of: (o) => o.classBalance?.beta },
  losses: { field: 'losses', of: (o) => o.losses, same: sameLosses },
  metrics: { field: 'metrics', of: (o) => o.metrics ?? false },
  topk: { field: 'topk', of: (o) => o.topk?.join(','), same: (value, run) => run !== undefined && topkList(value) === run },
  calibration_bins: { field: 'calibrationBins', of: (o) => o.calibrationBins ?? DEFAULT_BINS },
  confusion: { field: 'confusion', of: (o) => o.confusion },
  shots_many: { field: 'shots.many', of: (o) => o.shots === undefined ? undefined : o.shots.many ?? DEFAULT_MANY },
  shots_few: { field: 'shots.few', of: (o) => o.shots === undefined ? undefined : o.shots.few ?? DEFAULT_FEW },
  thresholds: { field: 'thresholds', of: (o) => o.metrics === true ? o.thresholds ?? RUN_THRESHOLDS : undefined }
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
    if (!(repeatable.same ?? Object.is)(value, run)) {
      invalid(`parameters.${key} = ${describe(value)} does not match the run's ${repeatable.field} = ${Array.isArray(run) ? 'a per-class vector' : JSON.stringify(run ?? null)}`)
    }
  }
}

/**
 * The outputs of the batch: compare's (`<name>_<field>` for a run's `losses`), with the analysis and
 * metrics ones the run's options keep; `scored` is the batch's request under those options.
 */
export function runOutputs (request: InferRequest, options: RunOptions, scored: ScoreRequest): OutputRequest[] {
  const breakdown = options.breakdown === true
  const asked = new Set<Need>(metricNeeds(scored.metrics, scored.analysis.activation, scored.input.shape, breakdown))
  if (breakdown) asked.add('breakdown')
  if (options.hardest !== undefined) asked.add('hardest')
  if (options.classBalance !== undefined) asked.add('class_counts')
  return options.losses === undefined
    ? outputRequests('compare', request, asked)
    : outputRequests('compare', request, asked, namedOutputs(scored.losses.map((loss) => loss.label)))
}

/** The reduction a run's batch states, as the compare model does: its first loss's (asymmetric's default is sum). */
export function runReduction (request: ScoreRequest): Reduction {
  return (request.losses[0]?.options as { reduction?: Reduction } | undefined)?.reduction ?? 'mean'
}

/** What the response's parameters say of the run, next to the reduction its losses use, which every V2 answer echoes. */
export function runParameters (runId: string, batchId: string, progress: BatchOutcome['progress'], replayed: boolean, reduction: Reduction): InferResponse['parameters'] {
  return { reduction, run_id: runId, batch_id: batchId, run_batches: progress.batches, run_rows: progress.rows, replayed }
}
