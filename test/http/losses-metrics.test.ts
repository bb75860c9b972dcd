/**
 * The metrics of issue 11 on the losses of issue 10: a batch's metrics do not depend on which loss
 * is scored, so /loss/ldam, /loss/seesaw and /loss/compare with a `losses` list answer the metrics
 * /loss/compare answers (which test/http/metrics.test.ts holds to torchmetrics 1.2.0), and their
 * shot groups carry each named loss's mean over the group's rows. V2's loss models answer the same.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { BACKENDS, post, suiteApp } from '../helper.js'
import { flatten } from '../golden/inputs.js'
import { binaryRequest, infer, type Tensor } from './v2/client.js'
import { cases, jsonBody, v2Metrics, v2Request } from './metrics-golden.js'
import { shapeOf } from './v2/golden.js'

type Json = Record<string, any>

// Softmax with index labels and shot groups, small enough to run every loss route on each.
const CHOSEN = cases.filter((c) => c.kind === 'multiclass' && c.request.labelKind === 'index' && c.request.options?.shots !== undefined).slice(0, 6)

function withoutShots (metrics: Json): Json {
  const { shots: _, ...rest } = metrics
  return rest
}

/** Σ of the group's classes' loss sums over the group's rows: what each shot group reports per loss. */
function groupMean (reply: Json, loss: string, member: (n: number) => boolean, counts: readonly number[]): number | null {
  let sum = 0
  let rows = 0
  for (const entry of reply.perClass as Json[]) {
    if (!member(counts[entry.class] as number)) continue
    sum += entry[loss].sum
    rows += entry.count
  }
  return rows === 0 ? null : sum / rows
}

for (const backend of BACKENDS) {
  describe(`metrics on the losses of issue 10, on ${backend}`, () => {
    let app: FastifyInstance
    suiteApp((built) => { app = built }, backend)

    test('the cases', () => {
      assert.ok(CHOSEN.length >= 3, `${CHOSEN.length} cases`)
    })

    for (const c of CHOSEN) {
      test(c.name, async () => {
        const shots = c.request.options?.shots as { counts: number[], many?: number, few?: number }
        const positive = shots.counts.map((n) => Math.max(1, n))
        const ref = await post(app, '/loss/compare', jsonBody(c))
        assert.equal(ref.status, 200, JSON.stringify(ref.json))

        const listed = await post(app, '/loss/compare', { ...jsonBody(c), losses: [{ loss: 'ce' }, { loss: 'poly', epsilon: 1 }, { loss: 'seesaw', classCounts: positive }] })
        assert.equal(listed.status, 200, JSON.stringify(listed.json))
        assert.deepEqual(withoutShots(listed.json.metrics), withoutShots(ref.json.metrics))
        const many = shots.many ?? 100
        const few = shots.few ?? 20
        const members: Record<string, (n: number) => boolean> = { many: (n) => n > many, medium: (n) => n >= few && n <= many, few: (n) => n < few }
        for (const [group, member] of Object.entries(members)) {
          const got = listed.json.metrics.shots[group]
          const want = ref.json.metrics.shots[group]
          assert.deepEqual([got.classes, got.rows, got.accuracy, got.ce], [want.classes, want.rows, want.accuracy, want.ce], group)
          for (const loss of ['poly', 'seesaw']) {
            const mean = groupMean(listed.json, loss, member, shots.counts)
            if (mean === null) assert.equal(got[loss], null)
            else assert.ok(Math.abs(got[loss] - mean) <= 1e-12 * Math.max(1, Math.abs(mean)), `${group}.${loss}: ${String(got[loss])} vs ${mean}`)
          }
        }
        for (const [i, entry] of (listed.json.perClass as Json[]).entries()) {
          const want = ref.json.perClass[i]
          assert.deepEqual([entry.recall, entry.precision, entry.f1], [want.recall, want.precision, want.f1], `perClass[${i}]`)
        }

        // LDAM is softmax only: its route has no activation field.
        const { shots: _, activation: __, ...body } = jsonBody(c)
        const ldam = await post(app, '/loss/ldam', { ...body, classCounts: positive })
        assert.equal(ldam.status, 200, JSON.stringify(ldam.json))
        // Without shots, the route's classCounts are the shot groups' training counts.
        assert.deepEqual(withoutShots(ldam.json.metrics), withoutShots(ref.json.metrics))
        assert.deepEqual(Object.keys(ldam.json.metrics.shots.many).sort(), ['accuracy', 'classes', 'ldam', 'rows'])

        const compareV2 = await infer(app, v2Request(c))
        assert.equal(compareV2.status, 200)
        const logits = flatten(body.logits)
        const tensors: Tensor[] = [
          { name: 'logits', datatype: 'FP32', shape: shapeOf(body.logits), values: logits },
          { name: 'labels', datatype: 'INT64', shape: shapeOf(body.labels), values: flatten(body.labels) },
          { name: 'class_counts', datatype: 'INT64', shape: [positive.length], values: positive }
        ]
        const parameters: Record<string, string | number | boolean> = { metrics: true, breakdown: true }
        if (c.request.ignoreIndex !== undefined) parameters.ignore_index = c.request.ignoreIndex
        const { topk, calibrationBins, confusion } = c.request.options ?? {}
        if (topk !== undefined) parameters.topk = topk.join(',')
        if (calibrationBins !== undefined) parameters.calibration_bins = calibrationBins
        if (confusion !== undefined) parameters.confusion = confusion
        const ldamV2 = await infer(app, binaryRequest('/v2/models/ldam/infer', tensors, { parameters }))
        assert.equal(ldamV2.status, 200, JSON.stringify(ldamV2.header))
        const fromLdam = v2Metrics(ldamV2)
        const fromCompare = v2Metrics(compareV2)
        assert.deepEqual(withoutShots(fromLdam.metrics), withoutShots(fromCompare.metrics))
        assert.deepEqual(fromLdam.perClass, fromCompare.perClass)
        const shotRows = ldamV2.outputs.get('metrics_shots')
        assert.deepEqual(shotRows?.shape, [3, 4], 'classes, rows, accuracy and the one loss')
        const json = ldam.json.metrics.shots
        assert.deepEqual(shotRows?.values, ['many', 'medium', 'few'].flatMap((g) => [json[g].classes, json[g].rows, json[g].accuracy, json[g].ldam]))
      })
    }
  })
}
