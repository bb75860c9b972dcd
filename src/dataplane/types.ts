/**
 * The transport-neutral request and result: what every codec (JSON bodies, V2 tensors, and the runs)
 * decodes a request into, and what it encodes a reply from. Nothing here knows HTTP.
 */
import type { Analysis, ClassTotals, HardRow, LossInput, LossResult, LossSpec, Namer } from '../losses/index.js'
import type { MetricsRequest, ScoredMetrics } from './metrics.js'

/** One loss to score, under the name the reply keys it by. */
export type NamedLoss = LossSpec & { readonly label: string }

export interface ScoreRequest {
  readonly input: LossInput
  /** The losses in reply order; each spec's `name` spells its fields for the core's messages. */
  readonly losses: readonly NamedLoss[]
  readonly analysis: Analysis
  /** How the caller spells the request's shared fields (`hardest`, class balance, the metrics' options). */
  readonly name: Namer
  /** The evaluation metrics asked for beside the losses, or undefined. */
  readonly metrics?: MetricsRequest | undefined
}

export interface ScoredLoss {
  readonly name: string
  readonly result: LossResult
  /** With `breakdown`. */
  readonly perClass: ClassTotals[] | undefined
  /** With `hardest`. */
  readonly hardest: HardRow[] | undefined
}

export interface ScoreResult {
  readonly losses: readonly ScoredLoss[]
  readonly classWeights: Float32Array | undefined
  /** When the request asked for metrics. */
  readonly metrics?: ScoredMetrics | undefined
}
