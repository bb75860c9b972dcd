import { test } from 'node:test'
import assert from 'node:assert/strict'
import os from 'node:os'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { availableCpus, ConfigError, ConfigSchema, loadConfig } from '../../src/config.js'

test('defaults', () => {
  const config = loadConfig({})
  assert.equal(config.PORT, 8080)
  assert.equal(config.HOST, '127.0.0.1')
  assert.equal(config.LOG_LEVEL, 'info')
  assert.equal(config.BODY_LIMIT, 64 * 1024 * 1024)
  assert.equal(config.TFJS_BACKEND, 'auto')
  assert.equal(config.WORKERS, availableCpus())
})

test('values are converted from strings', () => {
  const config = loadConfig({ PORT: '9000', HOST: '0.0.0.0', LOG_LEVEL: 'debug', BODY_LIMIT: '1048576', TFJS_BACKEND: 'wasm', WORKERS: '1' })
  assert.deepEqual(
    [config.PORT, config.HOST, config.LOG_LEVEL, config.BODY_LIMIT, config.TFJS_BACKEND, config.WORKERS],
    [9000, '0.0.0.0', 'debug', 1048576, 'wasm', 1])
})

test('empty variables count as unset', () => {
  assert.equal(loadConfig({ PORT: '' }).PORT, 8080)
})

test('every bad value is rejected, and named', () => {
  for (const [key, value] of [['PORT', 'eighty'], ['PORT', '70000'], ['PORT', '80.5'], ['BODY_LIMIT', '-1'], ['LOG_LEVEL', 'loud'],
    ['TFJS_BACKEND', 'webgl'], ['WORKERS', '0'], ['SHUTDOWN_GRACE_MS', 'soon']]) {
    assert.throws(() => loadConfig({ [key as string]: value }), (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.match(err.message, new RegExp(`^invalid configuration:\\n  ${key}=${JSON.stringify(value)}: `))
      return true
    }, `${key}=${value}`)
  }
})

test('several bad values are all listed', () => {
  assert.throws(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'y' }), /PORT="x".*\n.*LOG_LEVEL="y"|LOG_LEVEL="y".*\n.*PORT="x"/)
})

test('the schema documents every key, and every required key has a default', () => {
  for (const [key, schema] of Object.entries(ConfigSchema.properties)) {
    assert.ok(typeof schema.description === 'string' && schema.description.length > 0, `${key} description`)
    if (!(ConfigSchema.required as string[] | undefined ?? []).includes(key)) continue
    assert.notEqual(schema.default, undefined, `${key} default`)
  }
})

test('the server exits non-zero with a clear message on bad configuration', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, PORT: 'not-a-port' },
    encoding: 'utf8',
    timeout: 30_000
  })
  assert.equal(run.status, 78)
  assert.match(run.stderr, /invalid configuration:\n {2}PORT="not-a-port": /)
})

test('WORKERS defaults to the container CPU limit', () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'cpu-max-'))
  const file = join(dir, 'cpu.max')
  const cores = os.availableParallelism()
  writeFileSync(file, 'max 100000\n')
  assert.equal(availableCpus(file), cores)
  writeFileSync(file, '50000 100000\n')
  assert.equal(availableCpus(file), 1)
  writeFileSync(file, `${150000 * cores} 100000\n`)
  assert.equal(availableCpus(file), cores)
  assert.equal(availableCpus(join(dir, 'missing')), cores)
})

test('the runs store: SQLite under ./data unless DATABASE_URL names a PostgreSQL', () => {
  const config = loadConfig({})
  assert.deepEqual([config.DATA_DIR, config.DATABASE_URL, config.MAX_RUNS, config.RUN_RETENTION_DAYS], ['./data', undefined, 1000, 30])
  assert.equal(loadConfig({ DATABASE_URL: 'postgres://svc@db:5432/runs' }).DATABASE_URL, 'postgres://svc@db:5432/runs')
  assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://db/runs' }), /invalid configuration:\n {2}DATABASE_URL="mysql:\/\/db\/runs": Expected string to match/)
  assert.throws(() => loadConfig({ MAX_RUNS: '0' }), /MAX_RUNS="0"/)
})

test('a bad DATABASE_URL is quoted without its password', () => {
  assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://svc:s3cret@db/runs' }), (err: Error) => {
    assert.match(err.message, /DATABASE_URL="mysql:\/\/svc:\*\*\*@db\/runs": Expected string to match/)
    assert.doesNotMatch(err.message, /s3cret/)
    return true
  })
})
