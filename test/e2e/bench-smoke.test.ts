/**
 * The load bench in its quick mode: two scenarios for about a second each against the real service
 * (from src/, no build) and the floor, plus a short memory phase. Checks that it produces the table
 * and sane figures, not that targets are met: a second of load on a shared machine proves nothing.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

interface Side { rps: number, p50: number, p99: number, requests: number, errors: number, timeouts: number, non2xx: number }
interface Report {
  rows: Array<{ scenario: string, workers: number, floor: Side, service: Side }>
  memory: { points: Array<{ requests: number, rssMiB: number, rssAfterGcMiB: number, numTensors?: number }>, errors: number }
  verdict: Array<{ what: string, status: string }>
}

test('npm run bench --quick prints the table and measures both servers without errors', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-smoke-'))
  const jsonFile = join(dir, 'bench.json')
  try {
    const args = ['--import', 'tsx', 'bench/run.ts', '--quick', '--source', '--scenarios', 'focal-64x10,ce-64x10',
      '--workers', '1', '--memory', '200,1000', '--log-level', 'warn', '--json', jsonFile]
    const { code, stdout, stderr } = await new Promise<{ code: number, stdout: string, stderr: string }>((resolve) => {
      execFile(process.execPath, args, { cwd: root, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
      })
    })
    assert.equal(code, 0, stderr)

    assert.match(stdout, /service WORKERS=1 vs floor with 1 process/)
    assert.match(stdout, /^scenario +conn +body +floor rps +p50 ms +p99 ms +service rps/m)
    for (const title of ['focal softmax 64x10', 'ce softmax 64x10']) {
      assert.match(stdout, new RegExp(`^${title} +16 +\\d+ KB +[\\d,]+ +[\\d.]+ +[\\d.]+ +[\\d,]+ +[\\d.]+ +[\\d.]+ +0 +0 +\\d+\\.\\d\\d`, 'm'))
    }
    assert.match(stdout, /^memory: a fresh service, WORKERS=1/m)
    assert.match(stdout, /^targets: \d+ met, \d+ missed, \d+ not checked/m)

    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as Report
    assert.deepEqual(report.rows.map((r) => r.scenario), ['focal-64x10', 'ce-64x10'])
    for (const row of report.rows) {
      for (const side of [row.floor, row.service]) {
        assert.ok(side.rps > 0 && side.requests > 0, `${row.scenario}: no requests completed`)
        assert.ok(side.p50 > 0 && side.p99 >= side.p50, `${row.scenario}: p50 ${side.p50}, p99 ${side.p99}`)
        assert.equal(side.errors + side.timeouts + side.non2xx, 0, `${row.scenario}: errors`)
      }
    }
    const points = report.memory.points
    assert.deepEqual(points.map((p) => p.requests), [200, 400, 600, 800, 1000])
    const first = points[0]
    const last = points[points.length - 1]
    assert.ok((first?.rssMiB ?? 0) > 10 && (last?.rssMiB ?? 0) > 10)
    // The full GC before the second reading ran (bench/gc-signal.cjs preloaded): a plausible RSS.
    assert.ok((first?.rssAfterGcMiB ?? 0) > 10 && (last?.rssAfterGcMiB ?? 0) > 10)
    assert.equal(report.memory.errors, 0)
    // The tfjs tensor count must not grow with requests, whenever the service reports it.
    if (first?.numTensors !== undefined) assert.equal(last?.numTensors, first.numTensors)
    assert.ok(report.verdict.some((v) => v.what === 'memory RSS'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
