/**
 * Opens the runs' store the configuration names: PostgreSQL when DATABASE_URL is a postgres:// URL,
 * else the SQLite file DATA_DIR/runs.sqlite. The caller runs migrate() once at start-up.
 */
import type { RunStore, StoreOptions } from './types.js'

export type { Merge, NewRun, Progress, PutOutcome, RunPage, RunRecord, RunStatus, RunStore, RunSummary, StoreOptions } from './types.js'

export async function openStore (config: { DATA_DIR: string, DATABASE_URL?: string | undefined }, options: StoreOptions = {}): Promise<RunStore> {
  const url = config.DATABASE_URL
  if (url !== undefined && /^postgres(ql)?:\/\//.test(url)) {
    const { openPostgres } = await import('./postgres.js')
    return openPostgres(url, options)
  }
  const { openSqlite } = await import('./sqlite.js')
  return openSqlite(config.DATA_DIR, options)
}
