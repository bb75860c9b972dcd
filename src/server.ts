/**
 * Process entry: read the config, build the app, listen, initialise tfjs, close gracefully.
 * With WORKERS > 1 the primary forks that many workers sharing the port (node:cluster) and only
 * supervises them.
 */
import cluster from 'node:cluster'
import { buildApp, engineFor } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { aggregateWorkerMetrics } from './plugins/metrics.js'

function readConfig (): Config {
  try {
    return loadConfig()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`${err.message}\n`)
    process.exit(78) // EX_CONFIG
  }
}

async function serve (config: Config): Promise<void> {
  const engine = engineFor(config)
  const app = await buildApp(config, engine)
  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    app.draining = true
    app.log.info({ signal, drainDelayMs: config.DRAIN_DELAY_MS, graceMs: config.SHUTDOWN_GRACE_MS }, 'shutting down: readiness is 503, finishing in-flight requests')
    const timer = setTimeout(() => {
      app.log.error('grace period over, exiting with requests still in flight')
      process.exit(1)
    }, config.SHUTDOWN_GRACE_MS)
    timer.unref()
    // Keep serving (with Connection: close) while load balancers see readiness fail, then stop listening.
    const drained = new Promise((resolve) => setTimeout(resolve, config.DRAIN_DELAY_MS))
    drained.then(async () => { await app.close() }).then(() => {
      app.log.info('closed')
      process.exit(0)
    }, (err: unknown) => {
      app.log.error({ err }, 'error while closing')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))

  await app.listen({ port: config.PORT, host: config.HOST })
  const backend = await engine.init()
  app.log.info({ backend, failed: engine.failedBackends, pid: process.pid }, `tfjs backend ${backend} ready`)
}

function supervise (config: Config): void {
  let stopping = false
  const fork = (): void => { cluster.fork() }
  aggregateWorkerMetrics()
  for (let i = 0; i < config.WORKERS; i++) fork()
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0)
      return
    }
    process.stderr.write(`worker ${worker.process.pid ?? '?'} exited (${signal ?? code}); starting another\n`)
    setTimeout(fork, 1000).unref()
  })
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal)
    setTimeout(() => process.exit(1), config.SHUTDOWN_GRACE_MS + 2000).unref()
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

const config = readConfig()
if (config.WORKERS > 1 && cluster.isPrimary) {
  supervise(config)
} else {
  serve(config).catch((err: unknown) => {
    process.stderr.write(`failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exit(1)
  })
}
