/**
 * What the page's browser tests share: Debian's Chromium launched once per file, a page opened on
 * a listening app that records console errors, and the page's own progress markers (each section
 * counts its finished reads in `data-version` and says `data-status`).
 */
import { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

/** The file's browser: launched before its tests, closed after them. */
export function useBrowser (): () => Browser {
  let browser: Browser | undefined
  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: npm test installs it (scripts/test-prereqs.mjs), or set CHROMIUM_PATH`)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  })
  after(async () => { await browser?.close() })
  return () => {
    if (browser === undefined) throw new Error('the browser is launched before the tests')
    return browser
  }
}

/** Starts `app` on a free loopback port; its origin. */
export async function listen (app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** A 1366×900 page that adds its console errors and warnings, and uncaught errors, to `problems`. */
export async function newPage (browser: Browser, problems: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } })
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`) })
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  return page
}

/** How many reads the section `id` has finished. */
export const version = async (page: Page, id: string): Promise<number> =>
  await page.evaluate((el) => Number(document.getElementById(el)?.dataset.version ?? 0), id)

/** Waits until the section `id` has finished a read newer than `since`, and returns its status. */
export async function settled (page: Page, id: string, since: number): Promise<string> {
  await page.waitForFunction(([el, v]) => {
    const node = document.getElementById(el as string)
    return node !== null && Number(node.dataset.version ?? 0) > (v as number) && node.dataset.status !== 'loading'
  }, [id, since])
  return await page.evaluate((el) => document.getElementById(el)?.dataset.status ?? '', id)
}
