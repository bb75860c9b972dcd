/**
 * A PostgreSQL server of a test's own, in a temporary directory on a free port, that the test may
 * stop and start again. initdb refuses to run as root, so as root it runs as the `postgres` user.
 */
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../../../scripts/lib/net.js'

const run = promisify(execFile)

/** The newest installed server's bin directory, or undefined. */
export function postgresBin (): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin')
}

export interface ThrowawayPostgres {
  url: string
  start (): Promise<void>
  /** `fast` ends sessions with 57P01 (admin shutdown); `immediate` drops them like a crash. */
  stop (mode: 'fast' | 'immediate'): Promise<void>
  /** Stops the server if it runs and removes its directory; never throws. */
  destroy (): Promise<void>
}

export async function throwawayPostgres (bin: string): Promise<ThrowawayPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'loss-pg-'))
  const data = join(dir, 'data')
  const asRoot = userInfo().uid === 0
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  const as = (cmd: string, args: string[]) => asRoot
    ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { timeout: 60_000 })
    : run(join(bin, cmd), args, { timeout: 60_000 })
  const port = await freePort()
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'])
  const server: ThrowawayPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: async () => {
      await as('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=20`, 'start'])
    },
    stop: async (mode) => {
      await as('pg_ctl', ['-D', data, '-w', '-t', '30', '-m', mode, 'stop'])
    },
    destroy: async () => {
      await as('pg_ctl', ['-D', data, '-w', '-t', '30', '-m', 'immediate', 'stop']).catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    }
  }
  await server.start()
  return server
}
