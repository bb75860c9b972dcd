/**
 * `npm test`'s first step: what the suites need from the machine that npm cannot install. The page's
 * browser tests drive Debian's Chromium (playwright-core brings no browser of its own). As root with
 * apt-get at hand it is installed, saying so; otherwise the run stops at once with the one command
 * to run, instead of failing minutes later inside the page tests.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const PACKAGES = ['chromium', 'fonts-dejavu-core']
const command = `apt-get install -y --no-install-recommends ${PACKAGES.join(' ')}`

function run (args) {
  const result = spawnSync(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  return result.status === 0
}

if (!existsSync(CHROMIUM)) {
  const root = process.getuid?.() === 0
  if (!root || !existsSync('/usr/bin/apt-get')) {
    process.stderr.write(`npm test: the page's browser tests need Debian's chromium at ${CHROMIUM}. Install it first:\n  sudo ${command}\n`)
    process.exit(1)
  }
  process.stdout.write(`npm test: installing Debian's chromium for the page's browser tests (${command}) ...\n`)
  if (!run(['apt-get', 'update', '-qq']) || !run(['apt-get', ...command.split(' ').slice(1), '-qq']) || !existsSync(CHROMIUM)) {
    process.stderr.write(`npm test: installing chromium failed; run it by hand:\n  ${command}\n`)
    process.exit(1)
  }
  process.stdout.write('npm test: chromium installed\n')
}
