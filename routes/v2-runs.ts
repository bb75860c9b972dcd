/**
 * POST /v2/models/compare/infer with parameters.run_id and parameters.batch_id: the batch goes into
 * the run as PUT /runs/{id}/batches/{batchId} puts it (same idempotency, 404 and 409), and the
 * answer is the batch's compare outputs with the run's progress in the response's parameters.
 * The run's options are the JSON API's fields, so the JSON codec turns them into the request.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { checkBatchId } from '../src/dataplane/runs/index.js'
import type { InferRequest, InferResponse } from '../schemas/v2.js'
import { runRequest, type RunOptions } from '../src/wire/json/runs.js'
import { frameResponse, HEADER_LENGTH, type FrameInfo } from '../src/wire/v2/binary.js'
import { v2Name } from '../src/wire/v2/decode.js'
import { encodeOutputs } from '../src/wire/v2/encode.js'
import { VERSION, type ModelName } from '../src/wire/v2/models.js'
import { checkRunParameters, decodeRunInfer, runOutputs, runParameters, runReduction } from '../src/wire/v2/runs.js'

export async function inferIntoRun (app: FastifyInstance, model: ModelName, body: InferRequest, frame: FrameInfo,
  request: FastifyRequest, reply: FastifyReply): Promise<InferResponse | FastifyReply> {
  const { runId, batchId, input } = decodeRunInfer(model, body, frame)
  checkBatchId(batchId, 'parameters.batch_id')
  request.batchShape = input.shape
  const run = await app.runs.definition(runId)
  const options = run.options as RunOptions
  checkRunParameters(body, options)
  const asJson = runRequest(input, run.classes, options)
  const outputs = runOutputs(body, options, asJson)
  // Messages of the core in V2's names, as decodeInfer's requests have them.
  const scoreRequest = { ...asJson, losses: asJson.losses.map((loss) => ({ ...loss, name: v2Name })), name: v2Name }
  const { result, progress, replayed } = await app.runs.putBatch(run, batchId, scoreRequest)
  request.runBatch = replayed ? 'replayed' : 'accepted'
  const reduction = runReduction(asJson)
  const encoded = encodeOutputs(result, { model, request: scoreRequest, reduction, outputs })
  const { id } = body
  const response: InferResponse = {
    model_name: model,
    model_version: VERSION,
    ...(id === undefined ? {} : { id }),
    parameters: runParameters(run.id, batchId, progress, replayed, reduction),
    outputs: encoded.outputs
  }
  if (encoded.binary.length === 0) return response
  const framed = frameResponse(response, encoded.binary)
  return await reply.header(HEADER_LENGTH, framed.headerLength).type('application/octet-stream').send(framed.body)
}
