/**
 * The Kubernetes manifests agree with the service: probes hit routes that exist and answer as a
 * probe expects, ports and environment match the config schema, the grace period covers the drain.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'
import { ConfigSchema, loadConfig } from '../../src/config.js'
import { build } from '../helper.js'

type Doc = Record<string, any>

const dir = new URL('../../deploy/kubernetes/', import.meta.url)
const docs: Doc[] = readdirSync(dir).filter((f) => f.endsWith('.yaml')).flatMap((f) =>
  parseAllDocuments(readFileSync(new URL(f, dir), 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], f)
    return d.toJS() as Doc
  }))
const byKind = (kind: string): Doc => {
  const found = docs.find((d) => d.kind === kind)
  assert.ok(found !== undefined, `no ${kind}`)
  return found
}
const deployment = byKind('Deployment')
const container = deployment.spec.template.spec.containers[0] as Doc
const env = Object.fromEntries((container.env as Doc[]).map((e) => [e.name as string, e.value as string | undefined]))
const podLabels = deployment.spec.template.metadata.labels as Record<string, string>
const matches = (selector: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => podLabels[k] === v)

test('the kustomization lists every manifest', () => {
  const kustomization = byKind('Kustomization')
  assert.deepEqual([...kustomization.resources].sort(), readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort())
  for (const kind of ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) byKind(kind)
})

test('the container port is the PORT the service listens on', () => {
  const port = (container.ports as Doc[]).find((p) => p.name === 'http')
  assert.equal(port?.containerPort, loadConfig({ PORT: env.PORT }).PORT)
  assert.equal(env.HOST, '0.0.0.0')
})

test('every variable set is one the service reads, with a valid value', () => {
  const known = new Set([...Object.keys(ConfigSchema.properties), 'TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS'])
  for (const name of Object.keys(env)) assert.ok(known.has(name), `${name} is not read by the service`)
  const literal = Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && k in ConfigSchema.properties))
  assert.doesNotThrow(() => loadConfig(literal))
})

test('probes point at routes that exist, on the container port, and answer 200 when ready', async () => {
  const app = await build()
  for (const name of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
    const probe = container[name] as Doc | undefined
    assert.ok(probe?.httpGet !== undefined, `${name} is an httpGet probe`)
    assert.equal(probe.httpGet.port, 'http', `${name} uses the named container port`)
    const res = await app.inject({ method: 'GET', url: probe.httpGet.path })
    assert.equal(res.statusCode, 200, `${name} ${String(probe.httpGet.path)}`)
  }
  assert.equal(container.readinessProbe.httpGet.path, '/health/ready', 'readiness follows the backend and the drain')
  assert.equal(container.livenessProbe.httpGet.path, '/health/live', 'liveness never restarts a busy or draining process')
  await app.close()
})

test('the grace period covers preStop, drain delay and the shutdown grace', () => {
  const config = loadConfig({ SHUTDOWN_GRACE_MS: env.SHUTDOWN_GRACE_MS, DRAIN_DELAY_MS: env.DRAIN_DELAY_MS })
  const preStop = Number((container.lifecycle.preStop.exec.command as string[]).at(-1))
  const grace = deployment.spec.template.spec.terminationGracePeriodSeconds as number
  assert.ok(grace * 1000 > preStop * 1000 + config.DRAIN_DELAY_MS + config.SHUTDOWN_GRACE_MS, `${grace} s`)
})

test('the Service, HPA and PDB select this Deployment', () => {
  const service = byKind('Service')
  assert.ok(matches(service.spec.selector))
  assert.equal(service.spec.ports[0].targetPort, 'http')
  const hpa = byKind('HorizontalPodAutoscaler')
  assert.equal(hpa.apiVersion, 'autoscaling/v2')
  assert.deepEqual([hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name], ['Deployment', deployment.metadata.name])
  assert.equal(hpa.spec.metrics[0].resource.name, 'cpu')
  assert.ok(container.resources.requests.cpu !== undefined, 'CPU utilisation needs a CPU request')
  const pdb = byKind('PodDisruptionBudget')
  assert.ok(matches(pdb.spec.selector.matchLabels))
  assert.ok(matches(deployment.spec.selector.matchLabels))
})

test('the pod runs as non-root with a read-only root filesystem', () => {
  assert.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true)
  assert.equal(container.securityContext.readOnlyRootFilesystem, true)
  assert.equal(container.securityContext.allowPrivilegeEscalation, false)
})

test('every replica keeps runs in the one database its secret names', () => {
  const database = (container.env as Doc[]).find((e) => e.name === 'DATABASE_URL')
  assert.deepEqual(database?.valueFrom?.secretKeyRef, { name: 'loss-service', key: 'database-url' })
  assert.notEqual(database?.valueFrom?.secretKeyRef?.optional, true, 'without it each pod would keep runs of its own')
})
