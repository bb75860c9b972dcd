/**
 * The transport-neutral request and result: what every codec (JSON bodies, V2 tensors, and the runs)
 * decodes a request into, and what it encodes a reply from. Nothing here knows HTTP.
 */
import type { Analysis, ClassTotals, CrossEntropyOptions, FocalOptions, HardRow, LossInput, LossResult, Namer } from '../losses/index.js'

/** One loss to score, under the name the reply keys it by. */
export type LossSpec =
  | { readonly name: string, readonly loss: 'ce', readonly options: CrossEntropyOptions }
  | { readonly name: string, readonly loss: 'focal', readonly options: FocalOptions }

export interface ScoreRequest {
  readonly input: LossInput
  readonly losses: readonly LossSpec[]
  readonly analysis: Analysis
  /** How the caller spells each option, for the core's messages. */
  readonly name: Namer
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
}
