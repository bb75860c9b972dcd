/**
 * Bad input to issue 10's losses (the "Bad input" section), through the JSON API and V2: each
 * a 400 whose exact message names the field, with its index in `losses` (`losses[2].gamma`,
 * `parameters.losses[2].gamma`); a zero count answers where its reference is finite (seesaw's clamp,
 * logit adjustment with τ = 0). The checks are the core's and the codecs', not tfjs: one backend.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { suiteApp } from '../helper.js'

const B = '"logits": [[2, -1, 0.5], [0.1, 0.2, 3]], "labels": [0, 2]'
const LIST = '{"loss": "ce"}, {"loss": "focal"}'

/** [route, the body's fields after logits and labels, message]. */
const REST: ReadonlyArray<readonly [string, string, string]> = [
  ['logit-adjusted', '', 'classCounts is required'],
  ['ldam', '', 'classCounts is required'],
  ['seesaw', '', 'classCounts is required'],
  ['ldam', '"classCounts": [1, 2]', 'classCounts has 2 values, expected 3 (one per class)'],
  ['seesaw', '"classCounts": [1, -2, 3]', 'classCounts[1] = -2 must be >= 0'],
  ['ldam', '"classCounts": [1, 2, 0]', "classCounts[2] = 0 must be > 0 (LDAM's margin n^(-1/4) is infinite at 0)"],
  ['logit-adjusted', '"classCounts": [1, 2, 0]', 'classCounts[2] = 0 must be > 0 when tau != 0 (log of a zero prior is -∞)'],
  ['poly', '"epsilon": 1e400', 'epsilon = Infinity must be a finite number'],
  ['logit-adjusted', '"classCounts": [1, 2, 3], "tau": -1e999', 'tau = -Infinity must be a finite number'],
  ['poly', '"epsilon": -1.5', 'epsilon = -1.5 must be >= -1'],
  ['poly', '"base": "focal", "gamma": -1', 'gamma = -1 must be >= 0'],
  ['poly', '"gamma": 1', 'gamma is not an option of poly with base "ce"; it is one of base "focal"'],
  ['poly', '"base": "focal", "weight": [1, 1, 1]', 'weight is not an option of poly with base "focal"; it is one of base "ce"'],
  ['asymmetric', '"gammaNeg": -1', 'gammaNeg = -1 must be >= 0'],
  ['asymmetric', '"gammaPos": -0.5', 'gammaPos = -0.5 must be >= 0'],
  ['asymmetric', '"clip": 1', 'clip = 1 is outside [0, 1)'],
  ['asymmetric', '"clip": -0.1', 'clip = -0.1 is outside [0, 1)'],
  ['asymmetric', '"activation": "softmax"', 'activation must be "sigmoid": the asymmetric loss is a sigmoid loss'],
  ['ldam', '"classCounts": [1, 2, 3], "scale": 0', 'scale = 0 must be > 0'],
  ['ldam', '"classCounts": [1, 2, 3], "maxMargin": -1', 'maxMargin = -1 must be >= 0'],
  ['ldam', '"classCounts": [1, 2, 3], "activation": "softmax"', 'activation is not a known field'],
  ['ldam', '"classCounts": [1, 2, 3], "classBalance": {"counts": [1, 2, 3], "beta": 0.9}, "weight": [1, 1, 1]', 'classBalance and weight are mutually exclusive: classBalance computes the weights'],
  ['seesaw', '"classCounts": [1, 2, 3], "p": -1', 'p = -1 must be >= 0'],
  ['seesaw', '"classCounts": [1, 2, 3], "eps": 0', 'eps = 0 must be > 0'],
  ['compare', `"losses": [${LIST}, {"loss": "poly", "gamma": 2}]`, 'losses[2].gamma is not an option of poly with base "ce"; it is one of base "focal"'],
  ['compare', `"losses": [${LIST}, {"loss": "seesaw", "tau": 1}]`, 'losses[2].tau is not an option of seesaw; it takes classCounts, p, q, eps'],
  ['compare', `"losses": [${LIST}, {"loss": "hinge"}]`, 'losses[2].loss = "hinge" must be one of "ce", "focal", "poly", "logit_adjusted", "ldam", "asymmetric", "seesaw"'],
  ['compare', `"losses": [${LIST}, {"loss": "ce"}]`, 'losses[2].name = "ce" is also the name of losses[0]; names must be unique (set "name")'],
  ['compare', `"losses": [${LIST}, {"loss": "poly", "name": "focal"}]`, 'losses[2].name = "focal" is also the name of losses[1]; names must be unique (set "name")'],
  ['compare', `"losses": [${LIST}, {"loss": "poly", "name": "classWeights"}]`, 'losses[2].name = "classWeights" is reserved (perClass, classWeights, metrics, run); name the loss otherwise'],
  ['compare', `"losses": [${LIST}, {"loss": "poly", "name": "perClass"}]`, 'losses[2].name = "perClass" is reserved (perClass, classWeights, metrics, run); name the loss otherwise'],
  ['compare', '"losses": [{"loss": "ce", "name": ""}]', 'losses[0].name = "" must be a letter then up to 63 letters, digits, _ or -'],
  ['compare', `"losses": [${LIST}, {"loss": "ldam"}]`, 'losses[2].classCounts is required'],
  ['compare', `"losses": [${LIST}, {"loss": "ldam", "classCounts": [1, 0, 3]}]`, "losses[2].classCounts[1] = 0 must be > 0 (LDAM's margin n^(-1/4) is infinite at 0)"],
  ['compare', `"losses": [${LIST}, {"loss": "poly", "epsilon": -2}]`, 'losses[2].epsilon = -2 must be >= -1'],
  ['compare', '"losses": [{"loss": "ce"}, {"loss": "focal", "gamma": -2}]', 'losses[1].gamma = -2 must be >= 0'],
  ['compare', '"losses": [{"loss": "ce"}, {"loss": "focal", "gamma": 1e400}]', 'losses[1].gamma = Infinity must be a finite number'],
  ['compare', '"losses": [{"loss": "ce"}, {"loss": "asymmetric"}]', 'activation (as applied to losses[1]) must be "sigmoid": the asymmetric loss is a sigmoid loss'],
  ['compare', '"losses": [{"loss": "ce", "bogus": 1}]', 'losses[0].bogus is not a known field'],
  ['compare', '"losses": []', 'losses must not be empty'],
  ['compare', '"losses": [{"name": "x"}]', 'losses[0].loss is required'],
  ['compare', '"gamma": 1, "losses": [{"loss": "ce"}]', 'gamma is an option of one loss: with losses, give it in the entries it belongs to'],
  ['compare', '"classBalance": {"counts": [1, 2, 3], "beta": 0.9}, "losses": [{"loss": "ce"}, {"loss": "seesaw", "classCounts": [1, 2, 3]}]',
    'classBalance (as applied to losses[1]) does not apply to seesaw, which takes no per-class weight'],
  ['compare', '"classBalance": {"counts": [1, 2, 3], "beta": 0.9}, "losses": [{"loss": "ce"}, {"loss": "ldam", "classCounts": [1, 2, 3], "weight": [1, 1, 1]}]',
    'classBalance (as applied to losses[1]) and losses[1].weight are mutually exclusive: classBalance (as applied to losses[1]) computes the weights']
]

const INPUTS = '{"name": "logits", "shape": [2, 3], "datatype": "FP32", "data": [2, -1, 0.5, 0.1, 0.2, 3]}, {"name": "labels", "shape": [2], "datatype": "INT64", "data": [0, 2]}'
const counts = (data: string): string => `, {"name": "class_counts", "shape": [3], "datatype": "INT64", "data": [${data}]}`
const losses = (list: string): string => `"losses": ${JSON.stringify(list)}`

/** [model, parameters, extra inputs, message]. */
const V2: ReadonlyArray<readonly [string, string, string, string]> = [
  ['poly', '"epsilon": -2', '', 'parameters.epsilon = -2 must be >= -1'],
  ['poly', '"base": "hinge"', '', 'parameters.base = "hinge" must be "ce" or "focal"'],
  ['poly', '"gamma": 1', '', 'parameters.gamma is not an option of poly with base "ce"; it is one of base "focal"'],
  ['ldam', '', '', 'class_counts is required'],
  ['ldam', '', counts('1, 2, 0'), "class_counts[2] = 0 must be > 0 (LDAM's margin n^(-1/4) is infinite at 0)"],
  ['ldam', '"scale": 0', counts('1, 2, 3'), 'parameters.scale = 0 must be > 0'],
  ['logit_adjusted', '', counts('1, -2, 3'), 'class_counts[1] = -2 must be >= 0'],
  ['seesaw', '"q": -1', counts('1, 2, 3'), 'parameters.q = -1 must be >= 0'],
  ['seesaw', '"class_balance_beta": 0.9', counts('1, 2, 3'),
    'parameters.class_balance_beta is not a parameter of model seesaw; it takes reduction, ignore_index, p, q, eps, breakdown, hardest, metrics, topk, calibration_bins, confusion, shots_many, shots_few (and binary_data_output)'],
  ['asymmetric', '"clip": 1', '', 'parameters.clip = 1 is outside [0, 1)'],
  ['asymmetric', '"gamma_neg": -1', '', 'parameters.gamma_neg = -1 must be >= 0'],
  ['compare', losses(`[${LIST}, {"loss": "poly", "gamma": 2}]`), '', 'parameters.losses[2].gamma is not an option of poly with base "ce"; it is one of base "focal"'],
  ['compare', losses(`[${LIST}, {"loss": "hinge"}]`), '', 'parameters.losses[2].loss = "hinge" must be one of "ce", "focal", "poly", "logit_adjusted", "ldam", "asymmetric", "seesaw"'],
  ['compare', losses(`[${LIST}, {"loss": "ce"}]`), '', 'parameters.losses[2].name = "ce" is also the name of parameters.losses[0]; names must be unique (set "name")'],
  ['compare', losses(`[${LIST}, {"loss": "ldam"}]`), '', 'parameters.losses[2].class_counts is required'],
  ['compare', losses(`[${LIST}, {"loss": "ldam", "max_margin": -1}]`), counts('1, 2, 3'), 'parameters.losses[2].max_margin = -1 must be >= 0'],
  ['compare', losses(`[${LIST}, {"loss": "seesaw", "class_counts": [1, 2]}]`), '', 'parameters.losses[2].class_counts has 2 values, expected 3 (one per class)'],
  ['compare', losses('[{"loss": "focal", "gamma": 1e400}]'), '', 'parameters.losses[0].gamma = Infinity must be a finite number'],
  ['compare', losses('[{"loss": "ce", "name": "run"}]'), '', 'parameters.losses[0].name = "run" is reserved (perClass, classWeights, metrics, run); name the loss otherwise'],
  ['compare', losses('[{"loss": "ce", "labelSmoothing": 0.1}]'), '', 'parameters.losses[0].labelSmoothing is not a known field (keys are snake_case)'],
  ['compare', losses('[{"loss": "ce", "__proto__": {}}]'), '', 'parameters.losses[0].__proto__ is not a known field (keys are snake_case)'],
  ['compare', losses('[]'), '', 'parameters.losses must list at least one loss'],
  ['compare', losses('{"loss": "ce"}'), '', 'parameters.losses must be a JSON array of losses, e.g. [{"loss": "ce"}, {"loss": "poly", "epsilon": 1}]'],
  ['compare', losses('[1]'), '', 'parameters.losses[0] must be a JSON object'],
  ['compare', '"losses": 3', '', 'parameters.losses must be a string: a JSON array of losses, e.g. [{"loss": "ce"}, {"loss": "poly", "epsilon": 1}]'],
  ['compare', `${losses('[{"loss": "ce"}]')}, "gamma": 2`, '', 'parameters.gamma is an option of one loss: with parameters.losses, give it in the entries it belongs to'],
  ['compare', losses('[{"loss": "ce"}]'), counts('1, 2, 3'), 'inputs[2] (class_counts) needs parameters.class_balance_beta, β in [0, 1), or a loss that takes class counts']
]

describe('bad input to the new losses', () => {
  let app: FastifyInstance
  suiteApp((built) => { app = built })

  for (const [route, fields, message] of REST) {
    test(`/loss/${route} {${fields}}`, async () => {
      const res = await app.inject({ method: 'POST', url: `/loss/${route}`, payload: `{${B}${fields === '' ? '' : ', ' + fields}}`, headers: { 'content-type': 'application/json' } })
      assert.deepEqual(res.json(), { statusCode: 400, error: 'Bad Request', message })
    })
  }

  for (const [model, parameters, extra, message] of V2) {
    test(`/v2/models/${model}/infer {${parameters}}${extra === '' ? '' : ' with class_counts'}`, async () => {
      const res = await app.inject({
        method: 'POST',
        url: `/v2/models/${model}/infer`,
        payload: `{"parameters": {${parameters}}, "inputs": [${INPUTS}${extra}]}`,
        headers: { 'content-type': 'application/json' }
      })
      assert.equal(res.statusCode, 400, res.body)
      assert.deepEqual(res.json(), { error: message })
    })
  }

  test('zero counts where the reference is finite: seesaw clamps them at 1, logit adjustment with tau 0 is cross-entropy', async () => {
    const ce = (await app.inject({ method: 'POST', url: '/loss/ce', payload: `{${B}}`, headers: { 'content-type': 'application/json' } })).json()
    for (const [route, fields] of [['seesaw', '"classCounts": [1, 1, 0], "p": 0, "q": 0'], ['logit-adjusted', '"classCounts": [1, 2, 0], "tau": 0']]) {
      const res = await app.inject({ method: 'POST', url: `/loss/${route}`, payload: `{${B}, ${fields}}`, headers: { 'content-type': 'application/json' } })
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(res.json().loss, ce.loss, route)
    }
  })
})
