/** The dataplane's result as the JSON API's replies. */
import type { ScoredLoss, ScoreResult } from '../../dataplane/index.js'
import type { ClassTotals, HardRow, LossResult } from '../../losses/index.js'
import type { CompareReply } from '../../../schemas/loss.js'
import type { MetricsReply } from '../../../schemas/metrics.js'
import { nest } from './arrays.js'
import { withMetrics } from './metrics.js'

export interface LossReplyJson {
  loss: number | null | unknown[]
  reduction: LossResult['reduction']
  sum: number
  normalizer: number
  perClass?: ClassTotals[]
  hardest?: HardRow[]
  classWeights?: number[]
  metrics?: MetricsReply
}

/** One loss: the mean or sum (the per-row array under `none`), its parts, and what was asked besides. */
export function encodeLoss ({ result, perClass, hardest }: ScoredLoss, classWeights: Float32Array | undefined): LossReplyJson {
  const reply: LossReplyJson = {
    loss: result.reduction === 'none' ? nest(result.values, result.valuesShape) : result.loss,
    reduction: result.reduction,
    sum: result.sum,
    normalizer: result.normalizer
  }
  if (perClass !== undefined) reply.perClass = perClass
  if (hardest !== undefined) reply.hardest = hardest
  if (classWeights !== undefined) reply.classWeights = Array.from(classWeights)
  return reply
}

function scored (result: ScoreResult, name: string): ScoredLoss {
  const found = result.losses.find((l) => l.name === name)
  if (found === undefined) throw new Error(`no loss named ${name} was scored`)
  return found
}

/** /loss/ce and /loss/focal: the request's one loss. */
export function encodeResult (result: ScoreResult): LossReplyJson {
  const [only] = result.losses
  if (only === undefined || result.losses.length !== 1) throw new Error(`expected one loss, got ${result.losses.length}`)
  return withMetrics(encodeLoss(only, result.classWeights), result.metrics)
}

/** `result` without what `breakdown` adds: a run scores every batch with it for its statistics, and answers it only when asked. */
export function withoutBreakdown (result: ScoreResult): ScoreResult {
  const losses = result.losses.map((loss) => ({ name: loss.name, result: loss.result, perClass: undefined, hardest: loss.hardest }))
  const metrics = result.metrics === undefined ? undefined : { stats: result.metrics.stats, report: result.metrics.report, perClass: undefined }
  return { losses, classWeights: result.classWeights, metrics }
}

/** /loss/compare: both losses, their per-class totals side by side, the weights once. */
export function encodeComparison (result: ScoreResult): CompareReply {
  const ce = scored(result, 'ce')
  const focal = scored(result, 'focal')
  const { perClass: cePerClass, ...ceReply } = encodeLoss(ce, undefined)
  const { perClass: focalPerClass, ...focalReply } = encodeLoss(focal, undefined)
  const reply: CompareReply = { ce: ceReply, focal: focalReply }
  if (cePerClass !== undefined && focalPerClass !== undefined) {
    reply.perClass = cePerClass.map((c, i) => {
      const f = focalPerClass[i] as ClassTotals
      return { class: c.class, count: c.count, ce: { sum: c.sum, mean: c.mean }, focal: { sum: f.sum, mean: f.mean } }
    })
  }
  if (result.classWeights !== undefined) reply.classWeights = Array.from(result.classWeights)
  return withMetrics(reply, result.metrics)
}
