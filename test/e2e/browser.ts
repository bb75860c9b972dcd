/**
 * What the page's browser tests share: Debian's Chromium launched once per file, a page opened on
 * a listening app that records console errors, the page's own progress markers (each section
 * counts its finished reads in `data-version` and says `data-status`), and its tables and numbers
 * read as the page prints them.
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

/** A number as the page prints it (charts.js fmt): 4 significant digits, an exponent when tiny or huge. */
export function printed (v: number | null): string {
  if (v === null) return '–'
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2)
  return Number(v.toPrecision(4)).toString()
}

/** A share or an accuracy as the page prints it (charts.js pct): percent to 0.1, two significant digits below 0.1%. */
export const percent = (v: number | null): string => v === null ? '–' : v > 0 && v < 0.001 ? `${(100 * v).toPrecision(2)}%` : `${(100 * v).toFixed(1)}%`

/** b − a as the page prints it (dom.js differenceCell): its sign, then the difference's size in `format`. */
export const signed = (d: number | null, format: (v: number) => string = printed): string =>
  d === null ? '–' : `${d > 0 ? '+' : d < 0 ? '−' : ''}${format(Math.abs(d))}`

/** Text and data-value of every cell of a table's body, row by row. */
export const cells = async (page: Page, selector: string): Promise<Array<Array<{ text: string, value: string }>>> =>
  await page.$$eval(`${selector} tbody tr`, (rows) => rows.map((r) => Array.from(r.children, (c) => ({ text: c.textContent?.trim() ?? '', value: (c as HTMLElement).dataset.value ?? '' }))))

/** Goes to `hash` and waits for the runs section's read of it; its status. */
export async function go (page: Page, hash: string): Promise<string> {
  const v = await version(page, 'runs')
  await page.evaluate((h) => { window.location.hash = h }, hash)
  return await settled(page, 'runs', v)
}

/** The trimmed text of the first element `selector` finds. */
export const text = async (page: Page, selector: string): Promise<string> => (await page.textContent(selector))?.trim() ?? ''
