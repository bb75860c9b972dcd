/**
 * The bodies of issue 10's routes (/loss/poly, /loss/logit-adjusted, /loss/ldam, /loss/asymmetric,
 * /loss/seesaw) and of `/loss/compare` with `losses` as the dataplane's request, and a comparison's
 * result as its reply: every loss under its name. The options become specs in the dataplane's
 * specs.ts, shared with V2; the field names are the body's own.
 */
import { invalid } from '../../errors.js'
import type { ScoreRequest, ScoreResult } from '../../dataplane/index.js'
import { checkForeign, defaultActivation, lossSpec, namedLosses, type Fields, type Shared } from '../../dataplane/specs.js'
import { asGiven, balancedWeights, DEFAULTS, type ClassBalance, type LossInput, type LossKind, type Namer } from '../../losses/index.js'
import type { CompareLossesBody, CompareLossesReply, LossBody } from '../../../schemas/losses.js'
import type { MetricsBody } from '../../../schemas/metrics.js'
import { decodeInput } from './arrays.js'
import { decodeMetrics, withMetrics } from './metrics.js'
import { encodeLoss, type LossReplyJson } from './reply.js'

/** Fields of a body that every loss of the request shares. */
const SHARED_FIELDS: ReadonlySet<string> = new Set([
  'logits', 'labels', 'activation', 'reduction', 'ignoreIndex', 'classBalance', 'breakdown', 'hardest', 'metrics', 'topk', 'calibrationBins', 'confusion', 'shots'
])
/** compare's top-level options of cross-entropy and focal, which belong in an entry once `losses` is given. */
const OWN_OPTIONS = ['labelSmoothing', 'weight', 'posWeight', 'gamma', 'alpha'] as const

interface SharedBody extends MetricsBody {
  logits: unknown
  labels: unknown
  activation?: 'softmax' | 'sigmoid' | undefined
  reduction?: 'mean' | 'sum' | 'none' | undefined
  ignoreIndex?: number | undefined
  classBalance?: ClassBalance | undefined
  breakdown?: boolean | undefined
  hardest?: number | undefined
}

/**
 * The batch, the shared options and the losses `build` makes of them. The shot groups' training
 * counts, when `shots` is absent: classBalance.counts, else the first loss's classCounts.
 */
function request (body: SharedBody, build: (shared: Shared) => ScoreRequest['losses'], activation: 'softmax' | 'sigmoid', input: LossInput = decodeInput(body)): ScoreRequest {
  const { shape } = input
  const balanced = balancedWeights(body.classBalance, { weight: false, alpha: false }, shape.length === 1 ? 1 : shape[1] ?? 1)
  const ignoreIndex = body.ignoreIndex ?? DEFAULTS.ignoreIndex
  const shared = { activation: body.activation ?? activation, reduction: body.reduction, ignoreIndex, balanced }
  const losses = build(shared)
  const classCounts = losses.map((l) => (l.options as { classCounts?: ArrayLike<number> }).classCounts).find((c) => c !== undefined)
  const metrics = decodeMetrics(body)
  return {
    input,
    losses,
    analysis: { activation: shared.activation, ignoreIndex, breakdown: body.breakdown ?? false, hardest: body.hardest, classWeights: balanced },
    name: asGiven,
    metrics: metrics === undefined || metrics.trainingCounts !== undefined ? metrics : { ...metrics, trainingCounts: classCounts }
  }
}

/** The losses with a route of their own besides /loss/ce and /loss/focal. */
export type RouteLoss = Extract<LossKind, 'poly' | 'logit_adjusted' | 'ldam' | 'asymmetric' | 'seesaw'>

/** The body of /loss/<kind> as the dataplane's request: one loss, named by its kind. */
export function lossRequest (kind: RouteLoss, body: LossBody): ScoreRequest {
  return request(body, (shared) => {
    checkForeign(kind, body as Fields, asGiven, SHARED_FIELDS)
    return [{ label: kind, ...lossSpec(kind, body as Fields, shared, asGiven) }]
  }, defaultActivation(kind))
}

/** How entry i of `losses` names its fields: its own as `losses[i].gamma`, the shared ones as applied to it. */
function entryName (i: number): Namer {
  return (field) => SHARED_FIELDS.has(field) ? `${field} (as applied to losses[${i}])` : `losses[${i}].${field}`
}

/** `/loss/compare` with `losses`: the listed losses, the shared fields applied to each; `input`, a batch already decoded (a run's). */
export function compareRequest (body: CompareLossesBody & { losses: NonNullable<CompareLossesBody['losses']> }, input?: LossInput): ScoreRequest {
  for (const key of OWN_OPTIONS) {
    if (body[key] !== undefined) invalid(`${key} is an option of one loss: with losses, give it in the entries it belongs to`)
  }
  return request(body, (shared) => namedLosses(body.losses as Fields[], shared, 'losses', entryName), 'softmax', input)
}

/** The fixed fields of the reply's schema, and each loss under its name. */
export type NamedReply = CompareLossesReply & Record<string, unknown>

/** A comparison with `losses`: each loss under its name, per-class totals under each name, the weights once. */
export function encodeNamed (result: ScoreResult): NamedReply {
  const reply: NamedReply = {}
  const perClass: Array<NonNullable<LossReplyJson['perClass']>> = []
  for (const scored of result.losses) {
    const { perClass: totals, ...rest } = encodeLoss(scored, undefined)
    reply[scored.name] = rest
    if (totals !== undefined) perClass.push(totals)
  }
  const [first] = perClass
  if (first !== undefined) {
    reply.perClass = first.map((c, k) => {
      const row: NonNullable<NamedReply['perClass']>[number] & Record<string, unknown> = { class: c.class, count: c.count }
      result.losses.forEach((scored, i) => {
        const t = perClass[i]?.[k]
        if (t !== undefined) row[scored.name] = { sum: t.sum, mean: t.mean }
      })
      return row
    })
  }
  if (result.classWeights !== undefined) reply.classWeights = Array.from(result.classWeights)
  return withMetrics(reply, result.metrics)
}
