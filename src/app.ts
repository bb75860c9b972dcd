/**
 * The application: Fastify options and the plugin that registers everything. server.ts and the
 * tests build it the same way, through `buildApp`.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import fp from 'fastify-plugin'
import type { Config } from './config.js'
import { Engine } from './engine/index.js'
import enginePlugin from './plugins/engine.js'
import errorsPlugin from './plugins/errors.js'
import jsonBody from './plugins/json-body.js'
import ops from './plugins/ops.js'
import { timeoutOptions } from './plugins/overload.js'
import requestLog from './plugins/request-log.js'
import runsPlugin from './plugins/runs.js'
import healthRoutes from '../routes/health.js'
import lossRoutes from '../routes/loss.js'
import lossesRoutes from '../routes/losses.js'
import pageRoutes from '../routes/page.js'
import runsRoutes from '../routes/runs.js'
import v2Routes from '../routes/v2.js'
import { validatorCompiler } from './plugins/validator.js'

const SAFE_ID = /^[\w.:-]{1,128}$/

/** Accepts a caller's x-request-id when it is short and plain; makes one otherwise. */
export function requestId (req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID()
}

export function serverOptions (config: Config): FastifyServerOptions {
  return {
    logger: {
      level: config.LOG_LEVEL,
      redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' }
    },
    bodyLimit: config.BODY_LIMIT,
    ...timeoutOptions(config),
    // One line per request, written by plugins/request-log.ts, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    // Run and batch ids longer than this get a 400 naming the limit from the route, not a bare 414.
    routerOptions: { maxParamLength: 512 },
    genReqId: requestId,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // A request that arrives on a kept-alive connection while closing is still served (with
    // Connection: close) instead of refused: SIGTERM must not fail requests already on the wire.
    return503OnClosing: false
  }
}

export interface AppOptions {
  readonly engine: Engine
  readonly config: Config
}

/** Not encapsulated (fastify-plugin), so its decorators (`engine`, `draining`) live on the root instance. */
export const app = fp(async function app (instance: FastifyInstance, { engine, config }: AppOptions): Promise<void> {
  instance.setValidatorCompiler(validatorCompiler)
  // JSON only on the REST surface: any other media type is a 415.
  instance.removeContentTypeParser('text/plain')
  await instance.register(jsonBody)
  instance.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  await instance.register(enginePlugin, { engine })
  await instance.register(errorsPlugin)
  await instance.register(requestLog)
  await instance.register(ops, { config })
  await instance.register(healthRoutes)
  await instance.register(lossRoutes)
  await instance.register(lossesRoutes)
  await instance.register(runsPlugin, { config })
  await instance.register(runsRoutes)
  await instance.register(v2Routes)
  await instance.register(pageRoutes)
}, { name: 'app' })

export function engineFor (config: Config): Engine {
  return new Engine({ backend: config.TFJS_BACKEND, maxRows: config.BATCH_MAX_ROWS, waitMicros: config.BATCH_WAIT_US })
}

/** The production app, not yet listening; `engine.init()` is the caller's to start. */
export async function buildApp (config: Config, engine = engineFor(config), overrides: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const instance = Fastify({ ...serverOptions(config), ...overrides }).withTypeProvider<TypeBoxTypeProvider>()
  await instance.register(app, { engine, config })
  return instance
}
