/**
 * The one path from a decoded request to its result, for every transport: plan the losses (those
 * that share their log-probabilities as heads of one kernel call), run them on the engine, then the
 * analyses the request asked for. The JSON routes, V2 and the runs all call `score`.
 */
import type { Engine } from '../engine/index.js'
import { hardest, perClass, planCrossEntropy, planFocal, withHeadsOf, type KernelCall, type LossInput, type LossResult, type Namer, type Prepared } from '../losses/index.js'
import type { LossSpec, ScoredLoss, ScoreRequest, ScoreResult } from './types.js'

export type { LossSpec, ScoredLoss, ScoreRequest, ScoreResult } from './types.js'

function plan (input: LossInput, spec: LossSpec, name: Namer): Prepared<LossResult> {
  switch (spec.loss) {
    case 'ce': return planCrossEntropy(input, spec.options, name)
    case 'focal': return planFocal(input, spec.options, name)
  }
}

function same (a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  return a === b || Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

/** Whether two calls read the same matrix (and targets), so that one can carry the other's heads. */
function shareable (a: KernelCall, b: KernelCall): boolean {
  if (a.kind !== b.kind || a.rows !== b.rows || a.classes !== b.classes || !same(a.x, b.x)) return false
  if (a.kind === 'softmax-index' && b.kind === 'softmax-index') return same(a.target, b.target)
  if (a.kind === 'sigmoid' && b.kind === 'sigmoid') return same(a.t, b.t)
  return true
}

interface Group {
  call: KernelCall
  readonly finish: Array<(outputs: readonly Float32Array[]) => LossResult>
}

/** The specs' plans, each merged into the group before it when their calls can share one tfjs pass. */
function planAll (request: ScoreRequest): Group[] {
  const groups: Group[] = []
  for (const spec of request.losses) {
    const prepared = plan(request.input, spec, request.name)
    const last = groups[groups.length - 1]
    if (last !== undefined && shareable(last.call, prepared.call)) {
      const offset = last.call.heads.length
      last.call = withHeadsOf(last.call, prepared.call)
      last.finish.push((outputs) => prepared.finish(outputs, offset))
    } else {
      groups.push({ call: prepared.call, finish: [(outputs) => prepared.finish(outputs, 0)] })
    }
  }
  return groups
}

export class Dataplane {
  constructor (private readonly engine: Engine) {}

  async score (request: ScoreRequest): Promise<ScoreResult> {
    const groups = planAll(request)
    const results = (await Promise.all(groups.map(async ({ call, finish }) =>
      await this.engine.score({ call, finish: (outputs) => finish.map((f) => f(outputs)) })))).flat()
    const { input, analysis, name } = request
    const { activation, ignoreIndex, breakdown, hardest: k } = analysis
    const losses = request.losses.map((spec, i): ScoredLoss => {
      const result = results[i] as LossResult
      return {
        name: spec.name,
        result,
        perClass: breakdown ? perClass(result, input, activation, ignoreIndex) : undefined,
        hardest: k === undefined ? undefined : hardest(result, input, activation, ignoreIndex, k, name)
      }
    })
    return { losses, classWeights: analysis.classWeights }
  }
}
