import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import auth from './auth.js'
import metrics from './metrics.js'
import openapi from './openapi.js'
import overload, { overloadOptions } from './overload.js'

/**
 * The operational plugins, in the order their hooks must run: the document first (it collects the
 * routes registered after it), metrics (so rejected requests are counted too), then auth before the
 * overload checks, so that requests without a valid token never take a compute slot.
 */
export default fp<{ config: Config }>(async (app, { config }) => {
  await app.register(openapi, { auth: config.API_TOKEN !== undefined })
  await app.register(metrics)
  await app.register(auth, { token: config.API_TOKEN })
  await app.register(overload, overloadOptions(config))
}, { name: 'ops' })
