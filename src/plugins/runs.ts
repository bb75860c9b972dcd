/**
 * The runs' store, opened and migrated at start-up, and the Runs service over it (`app.runs`).
 * Closed runs past RUN_RETENTION_DAYS are purged at start-up and every hour; with several
 * processes or replicas each purges, which is harmless (a delete of what is already gone).
 */
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { Runs } from '../dataplane/runs/index.js'
import { openStore } from '../store/index.js'
import { runsMetrics, storeHistogram, timedStore } from './runs-metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    runs: Runs
  }
}

const PURGE_EVERY_MS = 3_600_000

export default fp<{ config: Config }>(async (app, { config }) => {
  const store = timedStore(await openStore(config), storeHistogram(app))
  await store.migrate()
  const runs = new Runs(store, app.dataplane, { maxOpen: config.MAX_RUNS })
  app.decorate('runs', runs)
  runsMetrics(app, runs)
  const purge = (): void => {
    runs.purge(config.RUN_RETENTION_DAYS).then((purged) => {
      if (purged > 0) app.log.info({ purged }, 'closed runs past RUN_RETENTION_DAYS deleted')
    }, (err: unknown) => { app.log.warn({ err }, 'purging old runs failed; retrying in an hour') })
  }
  purge()
  const timer = setInterval(purge, PURGE_EVERY_MS)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await store.close()
  })
}, { name: 'runs', dependencies: ['engine', 'metrics'] })
