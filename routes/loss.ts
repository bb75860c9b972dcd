import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import type { ScoreResult } from '../src/dataplane/index.js'
import { scoreRequest, type JsonModel } from '../src/wire/json/request.js'
import { encodeComparison, encodeResult } from '../src/wire/json/reply.js'
import { errorResponses } from '../schemas/common.js'
import { CompareReply, CrossEntropyBody, FocalBody, LossReply } from '../schemas/loss.js'
import { CompareLossesBody, CompareLossesReply } from '../schemas/losses.js'
import { compareRequest, encodeNamed } from '../src/wire/json/losses.js'

/** POST /loss/ce, /loss/focal and /loss/compare: decode, score, shape the reply. */
const lossRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** The body as the dataplane's request, scored; notes the batch's shape for the log line. */
  async function score (request: FastifyRequest, model: JsonModel | 'losses', body: CompareLossesBody): Promise<ScoreResult> {
    const decoded = model === 'losses' && body.losses !== undefined ? compareRequest({ ...body, losses: body.losses }) : scoreRequest(model === 'losses' ? 'compare' : model, body)
    request.batchShape = decoded.input.shape
    return await app.dataplane.score(decoded)
  }

  app.post('/loss/ce', {
    schema: {
      tags: ['loss'],
      summary: 'Cross-entropy of one batch',
      description: 'softmax: torch.nn.functional.cross_entropy (weight, ignore_index, label_smoothing, probability targets); ' +
        'sigmoid: F.binary_cross_entropy_with_logits (weight, pos_weight). mean divides by Σ weight[y_i] (index labels), N (probabilities) or N·C (sigmoid).',
      body: CrossEntropyBody,
      response: { 200: LossReply, ...errorResponses }
    }
  }, async (request) => {
    return encodeResult(await score(request, 'ce', request.body))
  })

  app.post('/loss/focal', {
    schema: {
      tags: ['loss'],
      summary: 'Focal loss of one batch',
      description: 'sigmoid: torchvision.ops.sigmoid_focal_loss, mean over N·C elements; softmax: Keras CategoricalFocalCrossentropy(from_logits=True), ' +
        'mean over non-ignored rows. gamma 0 with alpha null equals /loss/ce.',
      body: FocalBody,
      response: { 200: LossReply, ...errorResponses }
    }
  }, async (request) => {
    return encodeResult(await score(request, 'focal', request.body))
  })

  app.post('/loss/compare', {
    schema: {
      tags: ['loss'],
      summary: 'Cross-entropy and focal loss of one batch, side by side, or any list of losses',
      description: 'Both losses from one tfjs computation. weight/posWeight apply to cross-entropy, gamma/alpha to focal; ' +
        'classBalance to both. With breakdown, perClass lists both per class. With losses, each listed loss under its name ' +
        '(losses sharing a log-softmax share one pass), their options in their entries.',
      body: CompareLossesBody,
      response: { 200: Type.Union([CompareReply, CompareLossesReply]), ...errorResponses }
    }
  }, async (request, reply) => {
    // The schema's union is for the document: serialised through it, every reply would first be validated against CompareReply.
    if (request.body.losses === undefined) {
      const scored = await score(request, 'compare', request.body)
      return reply.serializer(reply.compileSerializationSchema(CompareReply)).send(encodeComparison(scored))
    }
    // The names are the caller's: no fixed schema serialises them, so JSON.stringify does.
    return reply.serializer(JSON.stringify).send(encodeNamed(await score(request, 'losses', request.body)))
  })
}

export default lossRoutes
