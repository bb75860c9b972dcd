import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { planCrossEntropy, planFocal } from '../losses/index.js'
import { errorResponses } from '../schemas/common.js'
import { CrossEntropyBody, FocalBody, LossReply } from '../schemas/loss.js'
import { crossEntropyOptions, decodeInput, encodeResult, focalOptions } from '../wire/json.js'

/** POST /loss/ce and /loss/focal: decode, score, shape the reply. */
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
    const input = decodeInput(request.body)
    request.batchShape = input.shape
    return encodeResult(await app.engine.score(planCrossEntropy(input, crossEntropyOptions(request.body))))
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
    const input = decodeInput(request.body)
    request.batchShape = input.shape
    return encodeResult(await app.engine.score(planFocal(input, focalOptions(request.body))))
  })
}

export default lossRoutes
