#!/usr/bin/env node
// Container smoke test (npm run test:container): builds the image with podman, runs it
// like production (read-only root fs, non-root, CPU/memory limits), and checks health,
// the healthcheck, a golden focal loss, /info's backend, the user, and a graceful
// SIGTERM with requests in flight (none may fail, exit code 0).
//
// Env knobs:
//   SMOKE_IMAGE        image tag to build/run (default localhost/loss-service:smoke)
//   BASE_IMAGE         base image (default localhost/node:20-bookworm-slim, built by
//                      scripts/container/base-image.sh when missing; a registry image
//                      such as docker.io/library/node:20-bookworm-slim is used as is)
//   SMOKE_CA_BUNDLE    CA bundle passed as build secret `ca_bundle`
//                      (default /etc/ssl/certs/ca-certificates.crt when it exists; '' = none)
//   SMOKE_SKIP_BUILD=1 reuse SMOKE_IMAGE as it is
//   SMOKE_BACKEND      backend /info must report (default: tensorflow when the build
//                      installed tfjs-node, else wasm)
//   SMOKE_KEEP=1       keep the container after the run
//   PODMAN_RUNTIME     OCI runtime (default runc)
import { spawn } from 'node:child_process'
import { existsSync, createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const IMAGE = process.env.SMOKE_IMAGE || 'localhost/loss-service:smoke'
const BASE_IMAGE = process.env.BASE_IMAGE || 'localhost/node:20-bookworm-slim'
const DEFAULT_CA = '/etc/ssl/certs/ca-certificates.crt'
const CA_BUNDLE = process.env.SMOKE_CA_BUNDLE ?? (existsSync(DEFAULT_CA) ? DEFAULT_CA : '')
const RUNTIME = process.env.PODMAN_RUNTIME || 'runc'
const LIMITS = ['--ulimit', 'nofile=8192:8192', '--ulimit', 'nproc=4096:4096']
const NAME = `loss-smoke-${process.pid}`
const BUILD_LOG = path.join(os.tmpdir(), `${NAME}-build.log`)

// Golden value: logits [[2,-1,0.5],[0.1,0.2,3]], labels [0,2], the service defaults
// (softmax, gamma 2, alpha 0.25, mean). Reference computed in float64 with PyTorch:
//   p = softmax(x); l_i = sum_c 0.25 * t_ic * (1 - p_ic)^2 * -log p_ic; loss = mean_i l_i
// (Keras CategoricalFocalCrossentropy(from_logits=True) formula).
const GOLDEN = {
  body: { logits: [[2, -1, 0.5], [0.1, 0.2, 3]], labels: [0, 2] },
  focal: { loss: 0.0015342305114724331, sum: 0.0030684610229448663, normalizer: 2 },
  // torch.nn.functional.cross_entropy(x, y), mean
  ce: { loss: 0.17545638058931123 },
  // what other focal conventions give for the same batch (named in a failure message)
  variants: {
    'softmax focal, alpha null': 0.0061369220458897325,
    'torchvision sigmoid_focal_loss, one-hot, mean over elements': 0.10589457794563084,
    'torchvision sigmoid_focal_loss, one-hot, sum per row, mean': 0.3176837338368925
  }
}
const RTOL = 1e-5
const ATOL = 1e-7

const results = []
let container = null
const t0 = performance.now()

function log (line) { process.stdout.write(line + '\n') }
function secs (ms) { return (ms / 1000).toFixed(2) + 's' }

async function step (name, fn) {
  const start = performance.now()
  try {
    const detail = await fn()
    const ms = performance.now() - start
    results.push({ name, ok: true })
    log(`PASS  ${name} (${secs(ms)})${detail ? ' — ' + detail : ''}`)
    return true
  } catch (err) {
    const ms = performance.now() - start
    results.push({ name, ok: false })
    log(`FAIL  ${name} (${secs(ms)}) — ${err?.message ?? err}`)
    return false
  }
}

/** Runs a command; resolves { code, stdout, stderr }. Rejects only when it cannot start. */
function run (cmd, args, { input, logFile, timeoutMs = 0, quietStderr } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    const out = []
    const err = []
    const file = logFile ? createWriteStream(logFile, { flags: 'a' }) : null
    child.stdout.on('data', (d) => { out.push(d); file?.write(d) })
    child.stderr.on('data', (d) => { err.push(d); file?.write(d) })
    let timer = null
    if (timeoutMs > 0) timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      file?.end()
      const stderr = Buffer.concat(err).toString()
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString(),
        stderr: quietStderr ? stderr.split('\n').filter((l) => !quietStderr.test(l)).join('\n') : stderr
      })
    })
    if (input !== undefined) child.stdin.end(input)
    else child.stdin.end()
  })
}

// podman without systemd cannot schedule healthcheck timers; it says so on every run/rm.
const SYSTEMD_NOISE = /systemd connection|healthcheck timer|Removing timer/i

async function podman (args, opts = {}) {
  const r = await run('podman', args, { quietStderr: SYSTEMD_NOISE, ...opts })
  if (r.code !== 0 && !opts.allowFail) {
    throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-800)}`)
  }
  return r
}

function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** One HTTP request on a fresh connection (no keep-alive). */
function request (port, method, urlPath, body, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body)
    const req = http.request({
      host: '127.0.0.1',
      port,
      method,
      path: urlPath,
      agent: false,
      headers: {
        connection: 'close',
        ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
        ...(process.env.API_TOKEN ? { authorization: `Bearer ${process.env.API_TOKEN}` } : {})
      },
      timeout: timeoutMs
    }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)))
    req.on('error', reject)
    req.end(data)
  })
}

function json (res) {
  try { return JSON.parse(res.text) } catch { throw new Error(`not JSON (HTTP ${res.status}): ${res.text.slice(0, 200)}`) }
}

function close (a, b) { return Math.abs(a - b) <= ATOL + RTOL * Math.abs(b) }

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function main () {
  let tfjsNodeInstalled = null
  let port = 0

  const tools = await step('podman + runc available', async () => {
    const probe = async () => {
      const p = await run('podman', ['--version']).catch(() => null)
      const r = await run('runc', ['--version']).catch(() => null)
      return p?.code === 0 && r?.code === 0 ? `${p.stdout.trim()}, ${r.stdout.split('\n')[0]}` : null
    }
    let found = await probe()
    if (!found && process.getuid?.() === 0) {
      log('      installing podman runc (apt-get)')
      await run('apt-get', ['install', '-y', '--no-install-recommends', 'podman', 'runc'], { logFile: BUILD_LOG })
      found = await probe()
    }
    if (!found) throw new Error('podman and runc are needed: apt-get install -y podman runc')
    return found
  })
  if (!tools) return

  if (process.env.SMOKE_SKIP_BUILD !== '1') {
    if (BASE_IMAGE.startsWith('localhost/')) {
      const ok = await step(`base image ${BASE_IMAGE}`, async () => {
        const exists = (await run('podman', ['image', 'exists', BASE_IMAGE])).code === 0
        if (exists) return 'present'
        const r = await run('bash', [path.join(ROOT, 'scripts/container/base-image.sh'), BASE_IMAGE], { logFile: BUILD_LOG })
        if (r.code !== 0) throw new Error(`base-image.sh exited ${r.code}, see ${BUILD_LOG}`)
        return 'built with debootstrap'
      })
      if (!ok) return
    }

    const built = await step(`podman build ${IMAGE}`, async () => {
      const args = ['build', '--runtime', RUNTIME, '--format', 'docker', ...LIMITS,
        '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`, '-t', IMAGE, '-f', path.join(ROOT, 'Dockerfile')]
      if (CA_BUNDLE) args.push('--secret', `id=ca_bundle,src=${CA_BUNDLE}`)
      args.push(ROOT)
      const r = await run('podman', args, { logFile: BUILD_LOG })
      if (r.code !== 0) {
        const tail = (r.stdout + r.stderr).trim().split('\n').slice(-25).join('\n')
        throw new Error(`exit ${r.code} (log ${BUILD_LOG}):\n${tail}`)
      }
      return `CA secret: ${CA_BUNDLE || 'none'}; log ${BUILD_LOG}`
    })
    if (!built) return
  }

  const probed = await step('tfjs-node in the image', async () => {
    const r = await podman(['run', '--rm', '--runtime', RUNTIME, ...LIMITS, '--entrypoint', 'node', IMAGE,
      '-e', "try{require.resolve('@tensorflow/tfjs-node');console.log('yes')}catch{console.log('no')}"])
    tfjsNodeInstalled = r.stdout.trim() === 'yes'
    return tfjsNodeInstalled ? 'installed: expect the tensorflow backend' : 'absent (optional dep skipped): expect the wasm backend'
  })
  if (!probed) return

  await step('image config (user, HEALTHCHECK, entrypoint, HOST)', async () => {
    const r = await podman(['image', 'inspect', IMAGE, '--format', 'json'])
    const img = JSON.parse(r.stdout)[0]
    const cfg = { ...img.Config, Healthcheck: img.Healthcheck ?? img.Config.Healthcheck }
    const problems = []
    const user = String(cfg.User ?? '')
    if (!user || /^(0|root)(:|$)/.test(user)) problems.push(`User=${JSON.stringify(user)}`)
    if (!cfg.Healthcheck?.Test?.length) problems.push('no HEALTHCHECK (built without --format docker?)')
    if (!(cfg.Entrypoint ?? []).some((e) => /tini/.test(e))) problems.push(`Entrypoint=${JSON.stringify(cfg.Entrypoint)}`)
    if (JSON.stringify(cfg.Cmd) !== '["node","dist/src/server.js"]') problems.push(`Cmd=${JSON.stringify(cfg.Cmd)}`)
    if (!(cfg.Env ?? []).includes('HOST=0.0.0.0')) problems.push('HOST is not 0.0.0.0')
    if (problems.length) throw new Error(problems.join('; '))
    return `User=${user} Entrypoint=${cfg.Entrypoint.join(' ')} Cmd=${cfg.Cmd.join(' ')}`
  })

  const started = await step('podman run (read-only rootfs, 2 CPUs, 1 GiB)', async () => {
    port = await freePort()
    await podman(['rm', '-f', NAME], { allowFail: true })
    const r = await podman(['run', '-d', '--name', NAME, '--runtime', RUNTIME, ...LIMITS,
      '-p', `127.0.0.1:${port}:8080`,
      '--read-only', '--tmpfs', '/tmp:rw,size=64m',
      '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
      '--cpus', '2', '--memory', '1g',
      '-e', 'WORKERS=2', '-e', 'TF_NUM_INTRAOP_THREADS=1', '-e', 'TF_NUM_INTEROP_THREADS=1',
      '-e', 'LOG_LEVEL=warn', '-e', 'SHUTDOWN_GRACE_MS=20000',
      ...(process.env.API_TOKEN ? ['-e', 'API_TOKEN'] : []),
      IMAGE])
    container = r.stdout.trim().slice(0, 12)
    return `container ${container}, 127.0.0.1:${port} -> 8080`
  })
  if (!started) return

  const ready = await step('GET /health/ready becomes 200', async () => {
    const deadline = Date.now() + 90_000
    let last = 'no answer'
    while (Date.now() < deadline) {
      const st = await podman(['inspect', NAME, '--format', '{{.State.Status}}'], { allowFail: true })
      if (st.stdout.trim() === 'exited') {
        const logs = await podman(['logs', '--tail', '30', NAME], { allowFail: true })
        throw new Error(`container exited during start-up:\n${logs.stdout}${logs.stderr}`)
      }
      try {
        const res = await request(port, 'GET', '/health/ready', undefined, 2000)
        if (res.status === 200) return `after ${secs(90_000 - (deadline - Date.now()))}`
        last = `HTTP ${res.status}`
      } catch (err) { last = err.code ?? err.message }
      await sleep(250)
    }
    throw new Error(`not ready after 90s (last: ${last})`)
  })
  if (!ready) return

  await step('GET /health/live, /v2/health/ready, /metrics, / (the page)', async () => {
    const page = await request(port, 'GET', '/')
    const live = await request(port, 'GET', '/health/live')
    const v2 = await request(port, 'GET', '/v2/health/ready')
    const metrics = await request(port, 'GET', '/metrics')
    const bad = []
    if (page.status !== 200 || !/<html/i.test(page.text)) bad.push(`/ ${page.status}`)
    if (live.status !== 200) bad.push(`/health/live ${live.status}`)
    if (v2.status !== 200) bad.push(`/v2/health/ready ${v2.status}`)
    if (metrics.status !== 200 || !/^# (HELP|TYPE) /m.test(metrics.text)) bad.push(`/metrics ${metrics.status} ${metrics.text.slice(0, 80)}`)
    if (bad.length) throw new Error(bad.join('; '))
    return `metrics: ${metrics.text.split('\n').filter((l) => l.startsWith('# TYPE')).length} families`
  })

  await step('HEALTHCHECK (podman healthcheck run + inspect)', async () => {
    const r = await podman(['healthcheck', 'run', NAME], { allowFail: true })
    if (r.code !== 0) throw new Error(`podman healthcheck run exited ${r.code}: ${r.stdout}${r.stderr}`)
    const st = await podman(['inspect', NAME, '--format', '{{.State.Health.Status}}'])
    if (st.stdout.trim() !== 'healthy') throw new Error(`health status ${st.stdout.trim()}`)
    return 'healthy'
  })

  await step('POST /loss/focal matches golden (PyTorch float64)', async () => {
    const res = await request(port, 'POST', '/loss/focal', GOLDEN.body)
    const body = json(res)
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 300)}`)
    const { loss, sum, normalizer } = GOLDEN.focal
    if (!close(body.loss, loss)) {
      const other = Object.entries(GOLDEN.variants).find(([, v]) => close(body.loss, v))
      throw new Error(`loss ${body.loss} != ${loss}${other ? ` (matches "${other[0]}")` : ''}`)
    }
    if (body.reduction !== 'mean' || !close(body.sum, sum) || body.normalizer !== normalizer) {
      throw new Error(`reply ${res.text}`)
    }
    return `loss ${body.loss} vs ${loss} (rel err ${(Math.abs(body.loss - loss) / loss).toExponential(1)})`
  })

  await step('POST /loss/ce matches golden', async () => {
    const res = await request(port, 'POST', '/loss/ce', GOLDEN.body)
    const body = json(res)
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 300)}`)
    if (!close(body.loss, GOLDEN.ce.loss)) throw new Error(`loss ${body.loss} != ${GOLDEN.ce.loss}`)
    return `loss ${body.loss}`
  })

  await step('GET /info backend', async () => {
    const expected = process.env.SMOKE_BACKEND || (tfjsNodeInstalled ? 'tensorflow' : 'wasm')
    const res = await request(port, 'GET', '/info')
    const body = json(res)
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`)
    if (body.backend !== expected) throw new Error(`backend ${JSON.stringify(body.backend)}, expected ${expected}`)
    return `backend ${body.backend}`
  })

  await step('processes run as non-root', async () => {
    const id = await podman(['exec', NAME, 'id', '-u'])
    const uid = id.stdout.trim()
    if (uid === '0' || !/^\d+$/.test(uid)) throw new Error(`exec id -u = ${uid}`)
    const top = await podman(['top', NAME, 'user', 'pid', 'args'])
    const rows = top.stdout.trim().split('\n').slice(1).filter(Boolean)
    const rootRows = rows.filter((l) => /^root\s/.test(l))
    if (rootRows.length) throw new Error(`root processes:\n${rootRows.join('\n')}`)
    return `uid ${uid}; ${rows.length} processes: ${rows.map((l) => l.trim().split(/\s+/).slice(2).join(' ')).join(' | ')}`
  })

  await step('SIGTERM with requests in flight: none fail, exit 0', async () => {
    // A batch big enough to keep the server busy for a few ms per request.
    const n = 256
    const c = 64
    const logits = Array.from({ length: n }, (_, i) => Array.from({ length: c }, (_, j) => Math.sin(i * 31 + j * 7) * 4))
    const labels = Array.from({ length: n }, (_, i) => i % c)
    const body = { logits, labels }
    const clients = 8
    const state = { stopping: false }
    let sent = 0
    let okCount = 0
    let inFlightAtSignal = 0
    let inFlight = 0
    const failures = []
    const loops = Array.from({ length: clients }, async () => {
      while (!state.stopping) {
        sent++
        inFlight++
        try {
          const res = await request(port, 'POST', '/loss/focal', body, 60_000)
          if (res.status === 200 && Number.isFinite(JSON.parse(res.text).loss)) okCount++
          else failures.push(`HTTP ${res.status} ${res.text.slice(0, 120)}`)
        } catch (err) {
          failures.push(err.code ?? err.message)
        } finally { inFlight-- }
      }
    })
    await sleep(1500)
    state.stopping = true // loops send nothing new; every request already sent must succeed
    inFlightAtSignal = inFlight
    const signalAt = performance.now()
    await podman(['kill', '--signal', 'TERM', NAME])
    // readiness should flip to 503 while draining (informative; the port may close first)
    let readyAfterSignal = 'n/a'
    request(port, 'GET', '/health/ready', undefined, 2000)
      .then((r) => { readyAfterSignal = String(r.status) }, (e) => { readyAfterSignal = e.code ?? e.message })
    await Promise.all(loops)
    const drainedMs = performance.now() - signalAt
    const w = await podman(['wait', NAME], { timeoutMs: 60_000, allowFail: true })
    const exitedMs = performance.now() - signalAt
    const code = (await podman(['inspect', NAME, '--format', '{{.State.ExitCode}}'])).stdout.trim()
    const summary = `${sent} sent, ${okCount} ok, ${inFlightAtSignal} in flight at SIGTERM, ` +
      `drained in ${secs(drainedMs)}, exited ${code} after ${secs(exitedMs)}, /health/ready after SIGTERM: ${readyAfterSignal}`
    if (failures.length) {
      const hint = failures.some((f) => f.startsWith('HTTP 503'))
        ? ' [a 503 here is Fastify\'s return503OnClosing: a request accepted before SIGTERM but read after app.close() began]'
        : ''
      throw new Error(`${failures.length} failed (${[...new Set(failures)].slice(0, 5).join('; ')}); ${summary}${hint}`)
    }
    if (inFlightAtSignal === 0) throw new Error(`no request in flight at SIGTERM; ${summary}`)
    if (w.code !== 0 || code !== '0') {
      const logs = await podman(['logs', '--tail', '20', NAME], { allowFail: true })
      throw new Error(`exit code ${code} (podman wait ${w.code}); ${summary}\n${logs.stdout}${logs.stderr}`)
    }
    return summary
  })
}

async function cleanup () {
  if (container && process.env.SMOKE_KEEP !== '1') {
    await run('podman', ['rm', '-f', '-t', '0', NAME]).catch(() => {})
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => { cleanup().finally(() => process.exit(130)) })
}

try {
  log(`container smoke test: ${ROOT} (${(await readFile(path.join(ROOT, 'package.json'), 'utf8')).match(/"version": "([^"]+)"/)?.[1] ?? '?'}) -> ${IMAGE}`)
  await main()
} catch (err) {
  results.push({ name: 'unexpected error', ok: false })
  log(`FAIL  unexpected error — ${err?.stack ?? err}`)
} finally {
  await cleanup()
}
const failed = results.filter((r) => !r.ok).length
log(`total ${secs(performance.now() - t0)}`)
log(`smoke: ${results.length - failed} passed, ${failed} failed`)
process.exit(failed === 0 && results.length > 0 ? 0 : 1)
