/**
 * docker-compose.yml agrees with the service and the image. No Docker engine runs here (the
 * container itself is proven by `npm run test:container` under podman), so the file is checked as data.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { ConfigSchema, loadConfig } from '../../src/config.js'

const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as Record<string, any>
const loss = compose.services.loss as Record<string, any>
const env = loss.environment as Record<string, string>
const literal = (v: string): boolean => !v.includes('${')

test('the service: init, healthcheck on readiness, published port, limits', () => {
  assert.equal(loss.init, true)
  assert.match(loss.healthcheck.test.join(' '), /\/health\/ready/)
  assert.match(loss.ports[0], /^127\.0\.0\.1:\$\{PORT:-8080\}:8080$/)
  assert.equal(loadConfig({ PORT: env.PORT }).PORT, 8080)
  assert.equal(env.HOST, '0.0.0.0')
  assert.ok(loss.deploy.resources.limits.cpus !== undefined && loss.deploy.resources.limits.memory !== undefined)
})

test('every variable is one the service reads, and literal values are valid', () => {
  const known = new Set([...Object.keys(ConfigSchema.properties), 'TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS'])
  for (const name of Object.keys(env)) assert.ok(known.has(name), name)
  assert.doesNotThrow(() => loadConfig(Object.fromEntries(Object.entries(env).filter(([k, v]) => k in ConfigSchema.properties && literal(v)))))
})

test('stop_grace_period covers the drain delay and the shutdown grace', () => {
  const config = loadConfig({ SHUTDOWN_GRACE_MS: env.SHUTDOWN_GRACE_MS, DRAIN_DELAY_MS: env.DRAIN_DELAY_MS })
  const seconds = Number(/^(\d+)s$/.exec(loss.stop_grace_period as string)?.[1])
  assert.ok(seconds * 1000 > config.DRAIN_DELAY_MS + config.SHUTDOWN_GRACE_MS, `${seconds} s`)
})

test('the loadtest profile runs the bench against the service by its compose name', () => {
  const loadtest = compose.services.loadtest as Record<string, any>
  assert.deepEqual(loadtest.profiles, ['loadtest'])
  assert.equal(loadtest.depends_on.loss.condition, 'service_healthy')
  assert.deepEqual(loadtest.command, ['npm', 'run', 'bench', '--', '--target', 'http://loss:8080'])
  assert.match(readFileSync(new URL('../../bench/run.ts', import.meta.url), 'utf8'), /--target URL/)
})

test('runs live in the postgres service, which the service waits for', () => {
  const postgres = compose.services.postgres as Record<string, any>
  const url = new URL(env.DATABASE_URL?.replace(/\$\{POSTGRES_PASSWORD:-(\w+)\}/, '$1') ?? '')
  assert.equal(url.protocol, 'postgres:')
  assert.equal(url.hostname, 'postgres')
  assert.equal(url.pathname, `/${postgres.environment.POSTGRES_DB as string}`)
  assert.equal(url.username, postgres.environment.POSTGRES_USER)
  assert.match(postgres.environment.POSTGRES_PASSWORD as string, /^\$\{POSTGRES_PASSWORD:-loss\}$/)
  assert.equal(loss.depends_on.postgres.condition, 'service_healthy')
  assert.match(postgres.healthcheck.test.join(' '), /pg_isready/)
  assert.equal(postgres.ports, undefined, 'the database is not published')
  assert.ok(compose.volumes.pgdata !== undefined, 'the database outlives its container')
  assert.doesNotThrow(() => loadConfig({ DATABASE_URL: url.toString() }))
})
