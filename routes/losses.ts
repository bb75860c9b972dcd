import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { TSchema } from '@sinclair/typebox'
import { lossRequest, type RouteLoss } from '../src/wire/json/losses.js'
import { encodeResult } from '../src/wire/json/reply.js'
import { errorResponses } from '../schemas/common.js'
import { LossReply } from '../schemas/loss.js'
import { AsymmetricBody, LdamBody, LogitAdjustedBody, PolyBody, SeesawBody, type LossBody } from '../schemas/losses.js'

interface Route { readonly path: string, readonly kind: RouteLoss, readonly body: TSchema, readonly summary: string, readonly description: string }

const ROUTES: readonly Route[] = [
  {
    path: '/loss/poly',
    kind: 'poly',
    body: PolyBody,
    summary: 'Poly-1 loss of one batch (Leng et al. 2022)',
    description: 'base "ce": CE + ε(1 − p_t), p_t against the (smoothed) target; base "focal": FL + ε(1 − p_t)^(γ+1), softmax FL being /loss/focal\'s. ' +
      'Reductions and denominators are the base\'s; the ε term is never weighted.'
  },
  {
    path: '/loss/logit-adjusted',
    kind: 'logit_adjusted',
    body: LogitAdjustedBody,
    summary: 'Logit-adjusted cross-entropy of one batch (Menon et al. 2021)',
    description: 'CE(x + τ log π, y), π_c = classCounts_c / Σ classCounts; softmax only. mean divides by Σ weight[y_i] as /loss/ce.'
  },
  {
    path: '/loss/ldam',
    kind: 'ldam',
    body: LdamBody,
    summary: 'LDAM loss of one batch (Cao et al. 2019, kaidic/LDAM-DRW)',
    description: 'CE(s(x − m_y onehot), y, weight), m_c ∝ n_c^(−1/4) scaled so the largest is maxMargin; every count > 0; softmax, index labels. ' +
      'classBalance gives the DRW stage\'s weights.'
  },
  {
    path: '/loss/asymmetric',
    kind: 'asymmetric',
    body: AsymmetricBody,
    summary: 'Asymmetric loss of one batch (Ridnik et al. 2021, Alibaba-MIIL/ASL)',
    description: 'Sigmoid only; index labels are one-hot encoded. The reference\'s number is reduction "sum" (the default); mean divides by the elements of rows not ignored.'
  },
  {
    path: '/loss/seesaw',
    kind: 'seesaw',
    body: SeesawBody,
    summary: 'Seesaw loss of one batch (Wang et al. 2021, mmpretrain seesaw_ce_loss)',
    description: 'Mitigation (N_j/N_i)^p where N_j < N_i and compensation (σ_j/σ_i)^q where σ_j > σ_i on the non-target logits, then CE; ' +
      'classCounts is cum_samples as given; softmax, index labels; mean over the rows not ignored.'
  }
]

/** POST /loss/poly, /loss/logit-adjusted, /loss/ldam, /loss/asymmetric, /loss/seesaw: same reply as /loss/ce. */
const lossesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  for (const route of ROUTES) {
    app.post(route.path, {
      schema: { tags: ['loss'], summary: route.summary, description: route.description, body: route.body, response: { 200: LossReply, ...errorResponses } }
    }, async (request) => {
      const decoded = lossRequest(route.kind, request.body as LossBody)
      request.batchShape = decoded.input.shape
      return encodeResult(await app.dataplane.score(decoded))
    })
  }
}

export default lossesRoutes
