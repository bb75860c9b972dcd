/**
 * A store client in its own process, as a service worker would be. argv[2] is a JSON job. It
 * prints {"ready":true} and waits for a line on stdin, so that every worker opens the store at the
 * same moment (a fresh file's first pragmas and migrations race too); then it migrates if asked and
 * puts the job's batches one after another, printing one JSON line per resolved put.
 */
import { once } from 'node:events'
import { openStore } from '../../../src/store/index.js'
// Loaded before "ready", so that the workers' first puts are not spread out by module loading.
import '../../../src/store/sqlite.js'
import '../../../src/store/postgres.js'
import { delta, digestOf, merge, rowsOf } from './counter.js'

interface Job { config: { DATA_DIR: string, DATABASE_URL?: string }, runId?: string, ids?: string[], from?: number, migrate?: boolean, wait?: boolean }

const job = JSON.parse(process.argv[2] ?? '{}') as Job
if (job.wait !== false) {
  process.stdout.write(JSON.stringify({ ready: true }) + '\n')
  await once(process.stdin, 'data')
  process.stdin.destroy()
}
const store = await openStore(job.config)
if (job.migrate === true) await store.migrate()
// `from` instead of `ids`: batches b<from>, b<from+1>, ... until the process is killed.
const ids = job.from === undefined ? job.ids ?? [] : (function * (from) { for (let i = from; ; i++) yield `b${i}` })(job.from)
for (const id of ids) {
  const outcome = await store.putBatch(job.runId ?? '', id, digestOf(id), rowsOf(id), delta(rowsOf(id)), merge)
  const progress = 'progress' in outcome ? outcome.progress : undefined
  process.stdout.write(JSON.stringify({ id, kind: outcome.kind, progress, t: performance.timeOrigin + performance.now() }) + '\n')
}
await store.close()
