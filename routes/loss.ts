import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { planCompare, planCrossEntropy, planFocal, type LossInput } from '../src/losses/index.js'
import { errorResponses } from '../schemas/common.js'
import { CompareBody, CompareReply, CrossEntropyBody, FocalBody, LossReply } from '../schemas/loss.js'
import { analysisOf, classWeights, crossEntropyOptions, decodeInput, encodeComparison, encodeResult, focalOptions } from '../src/wire/json.js'

/** The batch of a body, its class-balanced weights if asked for; notes the shape for the log line. */
function decode (request: FastifyRequest, body: CompareBody): { input: LossInput, balanced: Float32Array | undefined } {
  const input = decodeInput(body)
  request.batchShape = input.shape
  return { input, balanced: classWeights(body, input.shape) }
}

/** POST /loss/ce, /loss/focal and /loss/compare: decode, score, shape the reply. */
const lossRoutes: FastifyPluginAsyncTypebox = async (app) => {
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
    const { input, balanced } = decode(request, request.body)
    const result = await app.engine.score(planCrossEntropy(input, crossEntropyOptions(request.body, balanced)))
    return encodeResult(result, analysisOf(request.body, input, balanced))
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
    const { input, balanced } = decode(request, request.body)
    const result = await app.engine.score(planFocal(input, focalOptions(request.body, balanced)))
    return encodeResult(result, analysisOf(request.body, input, balanced))
  })

  app.post('/loss/compare', {
    schema: {
      tags: ['loss'],
      summary: 'Cross-entropy and focal loss of one batch, side by side',
      description: 'Both losses from one tfjs computation. weight/posWeight apply to cross-entropy, gamma/alpha to focal; ' +
        'classBalance to both. With breakdown, perClass lists both per class.',
      body: CompareBody,
      response: { 200: CompareReply, ...errorResponses }
    }
  }, async (request) => {
    const { input, balanced } = decode(request, request.body)
    const comparison = await app.engine.score(planCompare(input, crossEntropyOptions(request.body, balanced), focalOptions(request.body, balanced)))
    return encodeComparison(comparison, analysisOf(request.body, input, balanced))
  })
}

export default lossRoutes
