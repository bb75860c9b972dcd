/**
 * `npm test` on a fresh machine: scripts/test-prereqs.mjs either brings Debian's chromium (as root)
 * or stops at once with the command to run. The refusal is checked as an unprivileged user, with the
 * browser's path pointed at a file that does not exist.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

const script = new URL('../../scripts/test-prereqs.mjs', import.meta.url).pathname
const asNobody = existsSync('/usr/sbin/runuser') || existsSync('/sbin/runuser')

test('without chromium and without root, npm test stops at once naming the command to run', { skip: asNobody ? false : 'runuser is not installed' }, () => {
  // A copy in a fresh temporary folder: the checkout itself may not be readable by nobody.
  const dir = mkdtempSync(join(tmpdir(), 'prereqs-'))
  chmodSync(dir, 0o755)
  const copy = join(dir, 'test-prereqs.mjs')
  copyFileSync(script, copy)
  chmodSync(copy, 0o644)
  const run = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, copy], {
    env: { PATH: process.env.PATH, CHROMIUM_PATH: '/nonexistent/chromium' },
    encoding: 'utf8',
    timeout: 10_000
  })
  assert.equal(run.status, 1)
  assert.equal(run.stderr, "npm test: the page's browser tests need Debian's chromium at /nonexistent/chromium. Install it first:\n" +
    '  sudo apt-get install -y --no-install-recommends chromium fonts-dejavu-core\n')
})

test('with chromium present it does nothing and says nothing', () => {
  const run = spawnSync(process.execPath, [script], { env: { PATH: process.env.PATH, CHROMIUM_PATH: process.execPath }, encoding: 'utf8', timeout: 10_000 })
  assert.equal(run.status, 0)
  assert.equal(run.stdout + run.stderr, '')
})
