/**
 * Evaluation runs: a run holds the options every batch is scored with and the merged statistics of
 * every batch received, from any number of clients, processes and replicas (src/dataplane/runs).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { checkBatchId } from '../src/dataplane/runs/index.js'
import { decodeInput } from '../src/wire/json/request.js'
import { encodeNamed } from '../src/wire/json/losses.js'
import { encodeComparison, withoutBreakdown } from '../src/wire/json/reply.js'
import { batchRequest, checkMetadata, encodeRun, encodeRunComparison, encodeSummary, probeRequest, runOptions } from '../src/wire/json/runs.js'
import { errorResponses } from '../schemas/common.js'
import { BatchBody, BatchLossesReply, BatchParams, BatchReply, CompareParams, ListQuery, RunComparison, RunCreateBody, RunList, RunParams, RunReply, RunSummary } from '../schemas/runs.js'

const runsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/runs', {
    schema: {
      tags: ['runs'],
      summary: 'Start an evaluation run',
      description: 'classes, an optional name and metadata, and the scoring options of /loss/compare, applied to every batch; hardest: k keeps the k hardest rows of the whole run.',
      body: RunCreateBody,
      response: { 201: RunReply, ...errorResponses }
    }
  }, async (request, reply) => {
    const { body } = request
    const options = runOptions(body)
    const probe = probeRequest(options, body.classes)
    app.dataplane.check(probe)
    const losses = probe.losses.map((loss) => loss.label)
    const record = await app.runs.create({ name: body.name, metadata: checkMetadata(body.metadata), classes: body.classes, options, losses })
    reply.code(201).header('location', `/runs/${record.id}`)
    return encodeRun(await app.runs.view(record.id))
  })

  app.get('/runs', {
    schema: { tags: ['runs'], summary: 'Runs, newest first', querystring: ListQuery, response: { 200: RunList, ...errorResponses } }
  }, async (request) => {
    const page = await app.runs.list(request.query.limit ?? 50, request.query.cursor)
    return { runs: page.runs.map(encodeSummary), next: page.next }
  })

  app.get('/runs/:id', {
    schema: { tags: ['runs'], summary: 'A run over every batch received so far', params: RunParams, response: { 200: RunReply, ...errorResponses } }
  }, async (request) => encodeRun(await app.runs.view(request.params.id)))

  app.put('/runs/:id/batches/:batchId', {
    schema: {
      tags: ['runs'],
      summary: 'Add one batch to a run',
      description: 'The /loss format ({logits, labels}); options repeated in the body must equal the run\'s. A retried PUT of the same batch id and batch is answered again and counted once; the same id with another batch is 409.',
      params: BatchParams,
      body: BatchBody,
      response: { 200: Type.Union([BatchReply, BatchLossesReply]), ...errorResponses }
    }
  }, async (request, reply) => {
    const { id, batchId } = request.params
    checkBatchId(batchId, 'batchId')
    const run = await app.runs.definition(id)
    const input = decodeInput(request.body)
    request.batchShape = input.shape
    const options = run.options as ReturnType<typeof runOptions>
    const { result, progress, replayed } = await app.runs.putBatch(run, batchId, batchRequest(request.body, input, run.classes, options))
    request.runBatch = replayed ? 'replayed' : 'accepted'
    const progressOf = { id: run.id, ...progress }
    const shown = options.breakdown === true ? result : withoutBreakdown(result)
    if (options.losses === undefined) {
      // As /loss/compare: its own serializer, not the documented union's (which validates before it serialises).
      return reply.serializer(reply.compileSerializationSchema(BatchReply)).send({ ...encodeComparison(shown), run: progressOf, replayed })
    }
    // The names are the caller's: no fixed schema serialises them, so JSON.stringify does (as /loss/compare).
    return reply.serializer(JSON.stringify).send({ ...encodeNamed(shown), run: progressOf, replayed })
  })

  app.post('/runs/:id/close', {
    schema: { tags: ['runs'], summary: 'Close a run: later batches are refused (409)', params: RunParams, response: { 200: RunSummary, ...errorResponses } }
  }, async (request) => encodeSummary(await app.runs.close(request.params.id)))

  app.delete('/runs/:id', {
    schema: { tags: ['runs'], summary: 'Delete a run and its batch records', params: RunParams, response: { 204: Type.Null(), ...errorResponses } }
  }, async (request, reply) => {
    await app.runs.delete(request.params.id)
    reply.code(204)
    return null
  })

  app.get('/runs/:id/compare/:other', {
    schema: { tags: ['runs'], summary: 'Two runs side by side: totals, per-class differences (other − id)', params: CompareParams, response: { 200: RunComparison, ...errorResponses } }
  }, async (request) => {
    const [a, b] = await Promise.all([app.runs.view(request.params.id), app.runs.view(request.params.other)])
    return encodeRunComparison(a, b)
  })
}

export default runsRoutes
