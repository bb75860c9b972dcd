/**
 * The Open Inference Protocol (KServe V2 / Triton) REST surface, with Triton's binary tensor data
 * extension. Three models, `ce`, `focal` and `compare`, run the same plans as POST /loss/ce,
 * /loss/focal and /loss/compare, and answer the same per-class totals, hardest rows and
 * class-balanced weights as extra outputs.
 *
 * Not wrapped in fastify-plugin on purpose: the body parser registered here, which takes any media
 * type (tritonclient sends none, the KServe client application/octet-stream), stays on these routes;
 * the JSON API keeps answering 415 to anything but application/json.
 *
 * @see https://github.com/kserve/kserve/blob/master/docs/predict-api/v2/required_api.md
 */
import type { IncomingMessage } from 'node:http'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { NotFoundError } from '../src/errors.js'
import {
  InferRequest, InferResponse, ModelMetadata, ModelParams, ModelReady, ServerLive, ServerMetadata, ServerReady, v2ErrorResponses
} from '../schemas/v2.js'
import { decompress, frameResponse, HEADER_LENGTH, splitBody, type FrameInfo } from '../src/wire/v2/binary.js'
import { readBody } from '../src/wire/v2/body.js'
import { decodeInfer } from '../src/wire/v2/decode.js'
import { encodeOutputs } from '../src/wire/v2/encode.js'
import { isModel, MODELS, modelMetadata, VERSION, type ModelName } from '../src/wire/v2/models.js'
import { isRunInfer } from '../src/wire/v2/runs.js'
import { pkg } from '../src/meta.js'
import { inferIntoRun } from './v2-runs.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** V2 routes: the JSON header's length and the binary tensor bytes that followed it. */
    v2Frame: FrameInfo | undefined
  }
}

const MODEL_PATHS = ['/v2/models/:model', '/v2/models/:model/versions/:version'] as const
const config = { errorFormat: 'v2' } as const
const NO_BYTES = Buffer.alloc(0)

function resolveModel ({ model, version }: ModelParams): ModelName {
  if (!isModel(model)) throw new NotFoundError(`model ${JSON.stringify(model)} not found; the models are ${Object.keys(MODELS).join(', ')}`)
  if (version !== undefined && version !== VERSION) {
    throw new NotFoundError(`model ${model} has no version ${JSON.stringify(version)}; the only version is ${VERSION}`)
  }
  return model
}

const v2Routes: FastifyPluginAsyncTypebox = async (app) => {
  app.decorateRequest('v2Frame', undefined)
  // The app's body limit; Fastify fills in its 1 MiB default when the app sets none.
  const bodyLimit = app.initialConfig.bodyLimit ?? 1024 * 1024
  app.removeAllContentTypeParsers()
  // '*' also takes requests without a Content-Type.
  app.addContentTypeParser('*', async (request: FastifyRequest, payload: IncomingMessage) => {
    const body = decompress(await readBody(payload, request.headers, bodyLimit), request.headers['content-encoding'], bodyLimit)
    const { header, jsonLength, binary } = splitBody(body, request.headers[HEADER_LENGTH])
    request.v2Frame = { jsonLength, binary }
    return header
  })

  const ready = (): boolean => app.engine.ready && !app.draining

  app.get('/v2', {
    config,
    schema: { tags: ['v2'], summary: 'Server metadata', response: { 200: ServerMetadata, ...v2ErrorResponses } }
  }, async () => ({ name: pkg.name, version: pkg.version, extensions: ['binary_tensor_data', 'parameters'] }))

  app.get('/v2/health/live', {
    config,
    schema: { tags: ['v2'], summary: 'The server is live', response: { 200: ServerLive } }
  }, async () => ({ live: true }))

  app.get('/v2/health/ready', {
    config,
    schema: { tags: ['v2'], summary: 'The tfjs backend is up and the server is not shutting down', response: { 200: ServerReady, 503: ServerReady } }
  }, async (_request, reply) => {
    const now = ready()
    reply.code(now ? 200 : 503)
    return { ready: now }
  })

  for (const path of MODEL_PATHS) {
    app.get(path, {
      config,
      schema: { tags: ['v2'], summary: 'Model metadata', params: ModelParams, response: { 200: ModelMetadata, ...v2ErrorResponses } }
    }, async (request) => modelMetadata(resolveModel(request.params)))

    app.get(`${path}/ready`, {
      config,
      schema: { tags: ['v2'], summary: 'The model is ready', params: ModelParams, response: { 200: ModelReady, ...v2ErrorResponses, 503: ModelReady } }
    }, async (request, reply) => {
      const name = resolveModel(request.params)
      const now = ready()
      reply.code(now ? 200 : 503)
      return { name, ready: now }
    })

    app.post(`${path}/infer`, {
      config,
      schema: {
        tags: ['v2'],
        summary: 'Score one batch: ce is POST /loss/ce, focal is POST /loss/focal, compare is POST /loss/compare',
        description: 'Inputs logits and labels (plus weight, pos_weight for ce; alpha for focal; all of them for compare; class_counts for any); ' +
          'options in parameters (activation, reduction, ignore_index, label_smoothing; gamma, alpha for focal and compare; ' +
          'breakdown, hardest, class_balance_beta); outputs loss, sum, normalizer (FP64; ce_ and focal_ prefixed for compare), ' +
          'with breakdown per_class_count, per_class_sum, per_class_mean, with hardest hardest_index, hardest_label, hardest_loss, ' +
          'with class_counts class_weights. ' +
          'Binary tensor data extension: a JSON header of Inference-Header-Content-Length bytes, then the tensors; ' +
          'binary outputs with parameters.binary_data_output or an output\'s binary_data.',
        params: ModelParams,
        body: InferRequest,
        response: { 200: InferResponse, ...v2ErrorResponses }
      }
    }, async (request, reply) => {
      const model = resolveModel(request.params)
      const frame = request.v2Frame ?? { jsonLength: 0, binary: NO_BYTES }
      if (isRunInfer(request.body)) return await inferIntoRun(app, model, request.body, frame, request, reply as FastifyReply)
      const decoded = decodeInfer(model, request.body, frame)
      request.batchShape = decoded.request.input.shape
      const scored = await app.dataplane.score(decoded.request)
      const { outputs, binary } = encodeOutputs(scored, decoded)
      const { reduction } = decoded
      const { id } = request.body
      const response = { model_name: model, model_version: VERSION, ...(id === undefined ? {} : { id }), parameters: { reduction }, outputs }
      if (binary.length === 0) return response
      const { body, headerLength } = frameResponse(response, binary)
      // The 200 schema types the JSON form; a Buffer is sent as it is, never serialised.
      return await (reply as FastifyReply).header(HEADER_LENGTH, headerLength).type('application/octet-stream').send(body)
    })
  }
}

export default v2Routes
