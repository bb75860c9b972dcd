/**
 * The one path from a decoded request to its result, for every transport: plan the losses (those
 * that read the same matrix share one kernel call, src/losses/many.ts), run them on the engine, then
 * the analyses the request asked for. The JSON routes, V2 and the runs all call `score`.
 */
import type { Engine } from '../engine/index.js'
import { hardest, perClass, planMany, type LossResult } from '../losses/index.js'
import type { ScoredLoss, ScoreRequest, ScoreResult } from './types.js'

export type { NamedLoss, ScoredLoss, ScoreRequest, ScoreResult } from './types.js'

export class Dataplane {
  constructor (private readonly engine: Engine) {}

  /** Plans the request's losses, which runs every option check the core makes, without scoring them. */
  check (request: ScoreRequest): void {
    planMany(request.input, request.losses)
  }

  async score (request: ScoreRequest): Promise<ScoreResult> {
    const results = await this.engine.score(planMany(request.input, request.losses))
    const { input, analysis, name } = request
    const { activation, ignoreIndex, breakdown, hardest: k } = analysis
    const losses = request.losses.map((spec, i): ScoredLoss => {
      const result = results[i] as LossResult
      return {
        name: spec.label,
        result,
        perClass: breakdown ? perClass(result, input, activation, ignoreIndex) : undefined,
        hardest: k === undefined ? undefined : hardest(result, input, activation, ignoreIndex, k, name)
      }
    })
    return { losses, classWeights: analysis.classWeights }
  }
}
