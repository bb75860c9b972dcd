/**
 * The floor: the fastest any Fastify + JSON service answering these requests can be. Same Fastify,
 * Fastify's default JSON parser, the service's body limit and worker model (node:cluster, WORKERS
 * processes); no logger, no validation, no compute, a constant reply of the service's shape.
 * Run as its own process by bench/run.ts, so it competes for CPU exactly as the service does.
 */
import cluster from 'node:cluster'
import Fastify from 'fastify'
import { loadConfig } from '../src/config.js'

const config = loadConfig()
const REPLY = { loss: 0.5, reduction: 'mean', sum: 32, normalizer: 64 }

async function serve (): Promise<void> {
  const app = Fastify({ logger: false, bodyLimit: config.BODY_LIMIT })
  // The V2 binary framing's floor: take the body as bytes and parse only the JSON header.
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer
    const length = Number(request.headers['inference-header-content-length'] ?? bytes.length)
    try {
      done(null, { header: JSON.parse(bytes.toString('utf8', 0, length)) as unknown, binary: bytes.subarray(length) })
    } catch (err) {
      done(err as Error, undefined)
    }
  })
  app.post('/loss/ce', async () => REPLY)
  app.post('/loss/focal', async () => REPLY)
  app.post('/loss/compare', async () => ({ ce: REPLY, focal: REPLY }))
  app.post('/v2/models/:model/infer', async () => ({ model_name: 'focal', model_version: '1', outputs: [] }))
  app.get('/health/ready', async () => ({ status: 'ready' }))
  process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
  await app.listen({ port: config.PORT, host: config.HOST })
}

if (config.WORKERS > 1 && cluster.isPrimary) {
  for (let i = 0; i < config.WORKERS; i++) cluster.fork()
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
    setTimeout(() => process.exit(0), 2000).unref()
  })
  cluster.on('exit', () => {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0)
  })
} else {
  serve().catch((err: unknown) => {
    process.stderr.write(`floor failed to start: ${String(err)}\n`)
    process.exit(1)
  })
}
