/**
 * The one path from a decoded request to its result, for every transport: plan the losses (those
 * that read the same matrix share one kernel call, src/losses/many.ts), run them on the engine, then
 * the analyses the request asked for. The JSON routes, V2 and the runs all call `score`.
 */
import type { Engine } from '../engine/index.js'
import { hardest, perClass, planMany, type LossResult } from '../losses/index.js'
import { metricsOf, planWithMetrics, scoreMetrics } from './metrics.js'
import type { ScoredLoss, ScoreRequest, ScoreResult } from './types.js'

export type { NamedLoss, ScoredLoss, ScoreRequest, ScoreResult } from './types.js'
export type { MetricsRequest, ScoredMetrics } from './metrics.js'

export class Dataplane {
  constructor (private readonly engine: Engine) {}

  /** Plans the request's losses, which runs every option check the core makes, without scoring them. */
  check (request: ScoreRequest): void {
    planMany(request.input, request.losses)
    metricsOf(request)
  }

  async score (request: ScoreRequest): Promise<ScoreResult> {
    const plan = planMany(request.input, request.losses)
    const options = metricsOf(request)
    const scored = options === undefined ? { value: await this.engine.score(plan), rows: undefined } : await this.engine.score(planWithMetrics(request, plan))
    const results = scored.value
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
    if (options === undefined) return { losses, classWeights: analysis.classWeights }
    const totals = (loss: ScoredLoss): ReturnType<typeof perClass> => perClass(loss.result, input, activation, ignoreIndex)
    return { losses, classWeights: analysis.classWeights, metrics: scoreMetrics(request, options, losses, scored.rows, totals) }
  }
}
