import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { NumberOrNull, OneOf, RowIndex, StringOrNull } from './common.js'
import { CompareReply, Labels, Logits } from './loss.js'
import { CompareLossesBody, CompareLossesReply } from './losses.js'
import { MetricsReply, perClassMetricFields } from './metrics.js'

/** The scoring options of /loss/compare a run applies to every batch, `losses` and the metrics included. */
const ScoringOptions = Type.Object({
  ...Type.Omit(CompareLossesBody, ['logits', 'labels', 'reduction', 'hardest']).properties,
  thresholds: Type.Optional(Type.Integer({
    minimum: 2,
    maximum: 10000,
    description: 'with metrics, sigmoid: the K thresholds of the run\'s AP and AUROC, torchmetrics\' binned thresholds=K (a run keeps counts, not every score); default 100'
  }))
})

export const RunCreateBody = Type.Object({
  classes: Type.Integer({ minimum: 1, maximum: 100_000, description: 'C, the classes of every batch' }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  metadata: Type.Optional(Type.Object({}, {
    additionalProperties: true,
    description: 'the caller\'s own small JSON object (model, checkpoint, dataset), at most 4 KiB as JSON',
    examples: [{ model: 'tsm-r50', checkpoint: 'epoch-50', dataset: 'kinetics400-val' }]
  })),
  hardest: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'keep the k rows with the largest loss over the whole run, per loss' })),
  ...ScoringOptions.properties
}, { additionalProperties: false, examples: [{ classes: 400, name: 'focal γ=2', metadata: { checkpoint: 'epoch-50' }, gamma: 2, hardest: 10 }] })
export type RunCreateBody = Static<typeof RunCreateBody>

/** A batch of a run: the `/loss` format; options may be repeated, and must then equal the run's. */
export const BatchBody = Type.Object({
  logits: Logits,
  labels: Labels,
  ...Type.Partial(ScoringOptions).properties
}, { additionalProperties: false })
export type BatchBody = Static<typeof BatchBody>

export const RunParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
export const BatchParams = Type.Object({
  id: Type.String({ maxLength: 64 }),
  batchId: Type.String({ description: 'the caller\'s id of the batch, e.g. rank3-step117: 1 to 128 of A-Z a-z 0-9 . _ : -' })
})
export const CompareParams = Type.Object({ id: Type.String({ maxLength: 64 }), other: Type.String({ maxLength: 64 }) })
export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'the `next` of the previous page' }))
})

const Progress = Type.Object({ id: Type.String(), batches: Type.Integer(), rows: Type.Integer() })

export const BatchReply = Type.Object({
  ...CompareReply.properties,
  run: Progress,
  replayed: Type.Boolean({ description: 'this batch id was added before with this batch: answered again, counted once' })
})
export type BatchReply = Static<typeof BatchReply>

/** A batch of a run with a `losses` list: /loss/compare's answer with losses, plus the progress. */
export const BatchLossesReply = Type.Object({ ...CompareLossesReply.properties, run: Progress, replayed: Type.Boolean() }, {
  additionalProperties: CompareLossesReply.additionalProperties as TSchema,
  description: CompareLossesReply.description
})

const Totals = Type.Object({
  loss: NumberOrNull({ description: 'Σ sum / Σ normalizer over every batch; null before any row counted' }),
  sum: Type.Number(),
  normalizer: Type.Number()
})
const ClassTotals = Type.Object({ sum: Type.Number(), mean: NumberOrNull() })
const HardRow = Type.Object({
  batch: Type.String(),
  index: RowIndex(),
  label: Type.Integer(),
  loss: Type.Number()
})

export const RunSummary = Type.Object({
  id: Type.String(),
  name: StringOrNull(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  status: OneOf(['open', 'closed']),
  created: Type.String(),
  closed: StringOrNull(),
  classes: Type.Integer(),
  batches: Type.Integer(),
  rows: Type.Integer()
})
export type RunListed = Static<typeof RunSummary>

export const RunReply = Type.Object({
  ...RunSummary.properties,
  options: Type.Record(Type.String(), Type.Unknown(), { description: 'the scoring options every batch is scored with' }),
  losses: Type.Array(Type.String(), { description: 'the names of the run\'s losses, in order; each keys its totals here and in perClass (ce and focal without `losses`)' }),
  perClass: Type.Array(Type.Object({ class: Type.Integer(), count: Type.Number(), ...perClassMetricFields }, {
    additionalProperties: ClassTotals, description: 'each loss\'s totals under its name; with metrics, the class\'s metrics over the run'
  })),
  hardest: Type.Optional(Type.Record(Type.String(), Type.Array(HardRow), { description: 'per loss, the k rows with the largest loss so far' })),
  metrics: Type.Optional(MetricsReply)
}, { additionalProperties: Totals, description: 'each loss\'s totals under its name' })
export type RunReply = Static<typeof RunReply>

export const RunList = Type.Object({ runs: Type.Array(RunSummary), next: StringOrNull() })

const Difference = NumberOrNull({ description: 'b − a; null where either is undefined' })
const ShotDifference = Type.Object({ accuracy: Difference }, { additionalProperties: Difference, description: 'b − a of the group\'s accuracy and of each shared loss\'s mean' })

export const RunComparison = Type.Object({
  a: RunReply,
  b: RunReply,
  difference: Type.Object({
    perClass: Type.Array(Type.Object({ class: Type.Integer() }, { additionalProperties: Difference }), {
      description: 'per class, b − a of the mean losses of every loss both runs have, and of recall, precision, f1 (or ap) when both have metrics'
    }),
    metrics: Type.Optional(Type.Object({
      topk: Type.Optional(Type.Record(Type.String(), Difference, { description: 'per k both runs report' }))
    }, { additionalProperties: Difference, description: 'when both runs have metrics: b − a of each scalar metric both report' })),
    shots: Type.Optional(Type.Object({ many: ShotDifference, medium: ShotDifference, few: ShotDifference }, { description: 'when both runs have shot groups' }))
  }, { additionalProperties: Difference, description: 'b − a of the mean loss of every loss name both runs have' })
})
export type RunComparison = Static<typeof RunComparison>
