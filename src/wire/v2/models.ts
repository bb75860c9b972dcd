/**
 * The V2 models this service serves: their inputs, parameters and outputs, and the metadata that
 * describes them. The model names are the JSON API's routes; their losses are the same.
 */
import type { ModelMetadata, TensorMetadata } from '../../../schemas/v2.js'
import { METRIC_OUTPUTS, METRICS_PARAMETERS, type MetricNeed } from './metric-outputs.js'

/** Element sizes in bytes of every V2 datatype with a fixed size (BYTES has none). */
export const SIZES: Readonly<Record<string, number>> = {
  BOOL: 1, UINT8: 1, UINT16: 2, UINT32: 4, UINT64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8, FP16: 2, FP32: 4, FP64: 8
}
export const DATATYPES = [...Object.keys(SIZES), 'BYTES']

export type Datatype = 'INT32' | 'INT64' | 'FP32' | 'FP64'
const FLOATS: readonly Datatype[] = ['FP32', 'FP64']
const ANY: readonly Datatype[] = ['INT32', 'INT64', 'FP32', 'FP64']
// Sample counts: numpy's bincount gives INT64; the JSON API takes any positive number.
const COUNTS: readonly Datatype[] = ['INT64', 'FP32', 'FP64']

export type ModelName = 'ce' | 'focal' | 'compare' | 'poly' | 'logit_adjusted' | 'ldam' | 'asymmetric' | 'seesaw'
export const VERSION = '1'

export interface InputSpec {
  readonly datatypes: readonly Datatype[]
  readonly required: boolean
  /** What model metadata shows: the most common layout; the README's V2 section lists the others. */
  readonly metadata: Omit<TensorMetadata, 'name'>
}

/** What an output needs the request to ask for before it exists. */
export type Need = 'breakdown' | 'hardest' | 'class_counts' | MetricNeed

export type OutputDatatype = 'FP64' | 'FP32' | 'INT64'

export type Field = 'loss' | 'sum' | 'normalizer' | 'per_class_count' | 'per_class_sum' | 'per_class_mean' |
  'hardest_index' | 'hardest_label' | 'hardest_loss' | 'class_weights' | 'metrics'

/**
 * Model compare's losses: ce and focal, or those its `losses` parameter names; its outputs of one
 * loss are named `<loss>_<field>`.
 */
export type LossName = string

export interface OutputSpec {
  readonly name: string
  readonly field: Field
  /** compare: the loss the output belongs to; undefined for one-loss models and what the losses share. */
  readonly of: LossName | undefined
  readonly datatype: OutputDatatype
  /** What model metadata shows; `hardest_index` is [k, 2] for temporal input. */
  readonly shape: readonly number[]
  readonly needs: Need | undefined
}

// class_weights are FP32: the float32 values the kernels used, which the JSON API echoes as they are.
const FIELDS: Readonly<Record<Exclude<Field, 'metrics'>, readonly [OutputDatatype, readonly number[], Need | undefined]>> = {
  loss: ['FP64', [-1], undefined],
  sum: ['FP64', [1], undefined],
  normalizer: ['FP64', [1], undefined],
  per_class_count: ['FP64', [-1], 'breakdown'],
  per_class_sum: ['FP64', [-1], 'breakdown'],
  per_class_mean: ['FP64', [-1], 'breakdown'],
  hardest_index: ['INT64', [-1], 'hardest'],
  hardest_label: ['INT64', [-1], 'hardest'],
  hardest_loss: ['FP64', [-1], 'hardest'],
  class_weights: ['FP32', [-1], 'class_counts']
}

export function output (field: Exclude<Field, 'metrics'>, of?: LossName): OutputSpec {
  const [datatype, shape, needs] = FIELDS[field]
  return { name: of === undefined ? field : `${of}_${field}`, field, of, datatype, shape, needs }
}

/** The metrics outputs, the same for every model (metrics.ts). */
export const metricOutputs: OutputSpec[] = METRIC_OUTPUTS.map(({ name, datatype, shape, needs }) => ({ name, field: 'metrics', of: undefined, datatype, shape, needs }))

export const LOSS_FIELDS: readonly Exclude<Field, 'metrics'>[] = ['loss', 'sum', 'normalizer']
export const PER_CLASS_FIELDS: readonly Exclude<Field, 'metrics'>[] = ['per_class_sum', 'per_class_mean']
export const HARDEST_FIELDS: readonly Exclude<Field, 'metrics'>[] = ['hardest_index', 'hardest_label', 'hardest_loss']
const oneLoss = [...[...LOSS_FIELDS, 'per_class_count' as const, ...PER_CLASS_FIELDS, ...HARDEST_FIELDS, 'class_weights' as const].map((field) => output(field)), ...metricOutputs]
const both = (fields: readonly Exclude<Field, 'metrics'>[]): OutputSpec[] => [...fields.map((f) => output(f, 'ce')), ...fields.map((f) => output(f, 'focal'))]

export interface ModelSpec {
  readonly inputs: Readonly<Record<string, InputSpec>>
  readonly parameters: readonly string[]
  /** Every output, in the order a request without `outputs` gets those it asked for. */
  readonly outputs: readonly OutputSpec[]
}

const vector: InputSpec = { datatypes: FLOATS, required: false, metadata: { datatype: 'FP32', shape: [-1] } }
const common = {
  logits: { datatypes: FLOATS, required: true, metadata: { datatype: 'FP32', shape: [-1, -1] } },
  labels: { datatypes: ANY, required: true, metadata: { datatype: 'INT64', shape: [-1] } }
} satisfies Record<string, InputSpec>
const classCounts: InputSpec = { datatypes: COUNTS, required: false, metadata: { datatype: 'INT64', shape: [-1] } }
const commonParameters = ['activation', 'reduction', 'ignore_index', 'label_smoothing']
const analysisParameters = ['breakdown', 'hardest', 'class_balance_beta', ...METRICS_PARAMETERS]

export const MODELS: Readonly<Record<ModelName, ModelSpec>> = {
  ce: {
    inputs: { ...common, weight: vector, pos_weight: vector, class_counts: classCounts, shot_counts: classCounts },
    parameters: [...commonParameters, ...analysisParameters],
    outputs: oneLoss
  },
  focal: {
    inputs: { ...common, alpha: vector, class_counts: classCounts, shot_counts: classCounts },
    parameters: [...commonParameters, 'gamma', 'alpha', ...analysisParameters],
    outputs: oneLoss
  },
  compare: {
    inputs: { ...common, weight: vector, pos_weight: vector, alpha: vector, class_counts: classCounts, shot_counts: classCounts },
    parameters: [...commonParameters, 'gamma', 'alpha', ...analysisParameters, 'losses'],
    outputs: [
      ...both(LOSS_FIELDS), output('per_class_count'), ...both(PER_CLASS_FIELDS), ...both(HARDEST_FIELDS), output('class_weights'), ...metricOutputs
    ]
  },
  // Issue 10's losses: class_counts is their classCounts (with class_balance_beta also the class-balanced weights).
  poly: {
    inputs: { ...common, weight: vector, pos_weight: vector, alpha: vector, class_counts: classCounts, shot_counts: classCounts },
    parameters: [...commonParameters, 'base', 'epsilon', 'gamma', 'alpha', ...analysisParameters],
    outputs: oneLoss
  },
  logit_adjusted: {
    inputs: { ...common, weight: vector, class_counts: classCounts, shot_counts: classCounts },
    parameters: ['reduction', 'ignore_index', 'label_smoothing', 'tau', ...analysisParameters],
    outputs: oneLoss
  },
  ldam: {
    inputs: { ...common, weight: vector, class_counts: classCounts, shot_counts: classCounts },
    parameters: ['reduction', 'ignore_index', 'max_margin', 'scale', ...analysisParameters],
    outputs: oneLoss
  },
  asymmetric: {
    inputs: { ...common, shot_counts: classCounts },
    parameters: [...commonParameters, 'gamma_pos', 'gamma_neg', 'clip', 'eps', 'breakdown', 'hardest', ...METRICS_PARAMETERS],
    outputs: oneLoss.filter((o) => o.field !== 'class_weights')
  },
  seesaw: {
    inputs: { ...common, class_counts: classCounts, shot_counts: classCounts },
    parameters: ['reduction', 'ignore_index', 'p', 'q', 'eps', 'breakdown', 'hardest', ...METRICS_PARAMETERS],
    outputs: oneLoss.filter((o) => o.field !== 'class_weights')
  }
}

/** The models of issue 10's losses, each one loss of that kind. */
export const LOSS_MODELS: ReadonlySet<ModelName> = new Set(['poly', 'logit_adjusted', 'ldam', 'asymmetric', 'seesaw'])

export function isModel (name: string): name is ModelName {
  return Object.hasOwn(MODELS, name)
}

export function modelMetadata (name: ModelName): ModelMetadata {
  return {
    name,
    versions: [VERSION],
    platform: 'tfjs_loss',
    inputs: Object.entries(MODELS[name].inputs).map(([input, spec]) => ({ name: input, ...spec.metadata })),
    outputs: MODELS[name].outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape: [...shape] }))
  }
}

/** Parameters the protocol or its clients define; accepted and ignored here. */
export const PROTOCOL_PARAMETERS = new Set(['binary_data_output', 'sequence_id', 'sequence_start', 'sequence_end', 'priority', 'timeout', 'headers', 'content_type'])
