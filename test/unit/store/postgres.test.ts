import { test } from 'node:test'
import { postgres } from './backends.js'
import { storeSuite } from './suite.js'

// CI must not go green with the PostgreSQL half of the suite silently skipped.
if (postgres.skip !== undefined && process.env.CI === 'true') {
  test('PostgreSQL is reachable under CI=true', () => { throw new Error(postgres.skip) })
}
storeSuite(postgres)
