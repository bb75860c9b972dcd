/**
 * The page's runs section in headless Chromium, against the production app on an ephemeral port:
 * runs created and fed through the HTTP API, and what the list, the run view and the comparison
 * show read from the page and compared with the API's answers, to the precision the page prints.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import { cells, go, listen, newPage, printed, settled, text, useBrowser, version } from './browser.js'
import { C, batch, byCount } from './page-runs-data.js'
import { BACKENDS, build, post } from '../helper.js'

const browser = useBrowser()

for (const backend of BACKENDS) {
  describe(`the runs on the page, on ${backend}`, () => {
    let app: FastifyInstance
    let page: Page
    let origin: string
    const problems: string[] = []
    const requests: string[] = []
    let a: string
    let b: string

    const get = async (url: string): Promise<any> => {
      const res = await app.inject({ method: 'GET', url })
      assert.equal(res.statusCode, 200, res.body)
      return res.json()
    }
    const put = async (id: string, batchId: string, body: unknown): Promise<any> => {
      const res = await app.inject({ method: 'PUT', url: `/runs/${id}/batches/${batchId}`, payload: body as object })
      assert.equal(res.statusCode, 200, res.body)
      return res.json()
    }
    const create = async (body: Record<string, unknown>): Promise<string> => {
      const res = await post(app, '/runs', { classes: C, gamma: 2, ...body })
      assert.equal(res.status, 201)
      // Runs list newest first by their creation time in ms: distinct times keep the expected order unambiguous.
      await sleep(3)
      return res.json.id
    }

    before(async () => {
      app = await build(backend)
      origin = await listen(app)
      a = await create({ name: 'cross-entropy checkpoint', metadata: { checkpoint: 'ce-epoch-50' }, hardest: 5 })
      b = await create({ name: 'focal checkpoint', metadata: { checkpoint: 'focal-epoch-50' }, hardest: 5 })
      for (let i = 0; i < 2; i++) {
        await put(a, `rank0-step${i}`, batch(11 + i, 3, 0.2))
        await put(b, `rank0-step${i}`, batch(11 + i, 2.5, 1.5))
      }
      page = await newPage(browser(), problems)
      page.on('request', (r) => requests.push(r.url()))
      const res = await page.goto(`${origin}/`)
      assert.equal(res?.status(), 200)
      assert.equal(await settled(page, 'runs', 0), 'ready')
    })

    after(async () => {
      await page?.close()
      await app?.close()
    })

    test('the list shows the runs newest first with the API\'s batches, rows and losses', async () => {
      const rows = await cells(page, '#runs-table')
      assert.deepEqual(rows.map((r) => r[1]?.value), [b, a])
      for (const [i, id] of [b, a].entries()) {
        const run = await get(`/runs/${id}`)
        const row = rows[i] ?? []
        assert.deepEqual(row.slice(1).map((c) => c.text), [
          run.name, run.status, `${(run.created as string).slice(0, 19).replace('T', ' ')} UTC`,
          String(C), '2', String(2 * 31), 'ce, focal', printed(run.ce.loss), printed(run.focal.loss)
        ])
        assert.equal(row[8]?.value, String(run.ce.loss))
        assert.equal(row[9]?.value, String(run.focal.loss))
      }
      assert.equal(await page.isDisabled('#runs-compare'), true)
      assert.equal(await page.isDisabled('#runs-older'), true)
    })

    test('a run view shows GET /runs/{id}: totals, per class in order of rows, hardest rows', async () => {
      await page.click(`#runs-table a[href="#runs/${a}"]`)
      await page.waitForFunction((id) => (window as any).lossPage.runs.run?.id === id && document.getElementById('runs')?.dataset.status === 'ready', a)
      assert.equal(await page.isVisible('#run-view'), true)
      assert.equal(await page.isHidden('#runs-list'), true)
      const run = await get(`/runs/${a}`)
      assert.deepEqual(await page.evaluate(() => (window as any).lossPage.runs.run), run)
      assert.equal(await text(page, '#run-title'), 'cross-entropy checkpoint')
      assert.equal(await text(page, '#run-facts dd[data-field="batches"]'), '2')
      assert.equal(await text(page, '#run-facts dd[data-field="rows"]'), '62')
      assert.equal(await text(page, '#run-facts dd[data-field="metadata.checkpoint"]'), 'ce-epoch-50')
      assert.match(await text(page, '#run-polled'), /^open: read every 2 s/)

      assert.deepEqual(await cells(page, '#run-totals'), ['ce', 'focal'].map((loss, i) => [
        { text: ['cross-entropy', 'focal loss'][i], value: '' },
        { text: printed(run[loss].loss), value: String(run[loss].loss) },
        { text: printed(run[loss].sum), value: String(run[loss].sum) },
        { text: printed(run[loss].normalizer), value: String(run[loss].normalizer) }
      ]))

      const order = byCount(run.perClass)
      assert.deepEqual(order, [0, 1, 2, 3, 4])
      const table = await cells(page, '#run-class-table')
      assert.deepEqual(table.map((r) => [r[0]?.value, r[1]?.value, r[3]?.text, r[3]?.value, r[5]?.text, r[5]?.value]), order.map((c) => {
        const x = run.perClass[c]
        return [String(c), String(x.count), printed(x.ce.mean), String(x.ce.mean), printed(x.focal.mean), String(x.focal.mean)]
      }))
      await page.click('#run-class-table button[data-sort="count"]')
      assert.deepEqual((await cells(page, '#run-class-table')).map((r) => r[0]?.value), order.map(String).reverse(), 'the tail first')
      assert.equal(await page.getAttribute('#run-class-table th:has(button[data-sort="count"])', 'aria-sort'), 'ascending')
      await page.click('#run-class-table button[data-sort="mean:ce"]')
      const ceMeans = (await cells(page, '#run-class-table')).map((r) => Number(r[3]?.value))
      assert.deepEqual(ceMeans, [...ceMeans].sort((x, y) => y - x), 'the hardest classes first')

      await page.selectOption('#run-class-view', 'mean')
      const plot = await page.evaluate(() => {
        const p = (window as any).lossPage.charts.runClasses.plot
        return { labels: p.series.map((s: { label: string }) => s.label), data: p.data.map((d: ArrayLike<number>) => Array.from(d)) }
      })
      assert.deepEqual(plot.labels, ['class', 'cross-entropy (mean)', 'focal loss (mean)'])
      assert.deepEqual(plot.data.slice(1), [order.map((c) => run.perClass[c].ce.mean), order.map((c) => run.perClass[c].focal.mean)])
      await page.selectOption('#run-class-view', 'share')

      const hardest = await cells(page, '#run-hardest-table')
      assert.equal(hardest.length, 5)
      assert.deepEqual(hardest.map((r) => [r[1]?.text, r[2]?.value, r[3]?.text, r[4]?.text, r[4]?.value]),
        run.hardest.focal.map((h: any) => [h.batch, JSON.stringify(h.index), String(h.label), printed(h.loss), String(h.loss)]))
      await page.selectOption('#run-rank-by', 'ce')
      assert.deepEqual((await cells(page, '#run-hardest-table')).map((r) => r[4]?.value), run.hardest.ce.map((h: any) => String(h.loss)))
    })

    test('the run view follows batches as they arrive, and stops reading once the run is closed', async () => {
      const before = await get(`/runs/${a}`)
      const reply = await put(a, 'rank1-step0', batch(99, 0.1, 0.1))
      assert.deepEqual(reply.run, { id: a, batches: 3, rows: 93 })
      await page.waitForFunction(() => document.querySelector('#run-facts dd[data-field="batches"]')?.textContent === '3', undefined, { timeout: 10_000 })
      const run = await get(`/runs/${a}`)
      assert.notEqual(run.ce.loss, before.ce.loss)
      const totals = await cells(page, '#run-totals')
      assert.deepEqual(totals.map((r) => [r[1]?.text, r[1]?.value]), [[printed(run.ce.loss), String(run.ce.loss)], [printed(run.focal.loss), String(run.focal.loss)]])
      assert.equal(await text(page, '#run-facts dd[data-field="rows"]'), '93')
      assert.equal((await cells(page, '#run-hardest-table')).map((r) => r[4]?.value).join(), run.hardest.ce.map((h: any) => String(h.loss)).join())

      assert.equal((await app.inject({ method: 'POST', url: `/runs/${a}/close` })).statusCode, 200)
      await page.waitForFunction(() => document.querySelector('#run-facts dd[data-field="status"]')?.textContent === 'closed', undefined, { timeout: 10_000 })
      assert.equal(await text(page, '#run-polled'), 'closed: no more batches')
      const reads = (): number => requests.filter((u) => new URL(u).pathname === `/runs/${a}`).length
      const seen = reads()
      await sleep(3000)
      assert.equal(reads(), seen, 'a closed run is not read again')
    })

    test('two runs compared: totals and per-class b − a as the API answers them, the tail in the findings', async () => {
      assert.equal(await go(page, 'runs'), 'ready')
      await page.check(`#runs-table input[value="${a}"]`)
      await page.check(`#runs-table input[value="${b}"]`)
      assert.equal(await page.isDisabled('#runs-compare'), false)
      assert.equal(await text(page, '#runs-pick-note'), 'a = cross-entropy checkpoint, b = focal checkpoint: differences are b − a')
      const v = await version(page, 'runs')
      await page.click('#runs-compare')
      assert.equal(await settled(page, 'runs', v), 'ready')
      assert.equal(await page.evaluate(() => window.location.hash), `#runs/${a}/compare/${b}`)
      const api = await get(`/runs/${a}/compare/${b}`)
      assert.deepEqual(await page.evaluate(() => (window as any).lossPage.runs.comparison), api)

      const totals = await cells(page, '#compare-totals')
      assert.deepEqual(totals.map((r) => r.map((c) => c.text)), [
        ['status', 'closed', 'open', ''],
        ['batches', '3', '2', ''],
        ['rows', '93', '62', ''],
        ...['ce', 'focal'].map((loss, i) => {
          const d = api.difference[loss]
          return [['cross-entropy', 'focal loss'][i], printed(api.a[loss].loss), printed(api.b[loss].loss), `${d < 0 ? '−' : '+'}${printed(Math.abs(d))}`]
        })
      ])
      assert.equal(totals[3]?.[3]?.value, String(api.difference.ce))

      const order = byCount(api.a.perClass.map((x: any, i: number) => ({ class: x.class, count: x.count + api.b.perClass[i].count })))
      const table = await cells(page, '#compare-class-table')
      assert.deepEqual(table.map((r) => [r[0]?.value, r[3]?.value, r[4]?.value, r[5]?.value, r[5]?.text, r[8]?.value]), order.map((c) => {
        const d = api.difference.perClass[c]
        return [String(c), String(api.a.perClass[c].ce.mean), String(api.b.perClass[c].ce.mean), String(d.ce), `${d.ce < 0 ? '−' : '+'}${printed(Math.abs(d.ce))}`, String(d.focal)]
      }))
      const tail = [3, 4]
      for (const c of tail) assert.ok(api.difference.perClass[c].ce < 0, `b is better on tail class ${c}`)
      assert.deepEqual(await page.$$eval('#compare-class-table tbody tr', (rows) => rows.slice(-2).map((r) => r.children[5]?.className)), ['better', 'better'])

      const plot = await page.evaluate(() => (window as any).lossPage.charts.compareClasses.plot.data.map((d: ArrayLike<number>) => Array.from(d)))
      assert.deepEqual(plot[1], order.map((c) => api.difference.perClass[c].ce))
      const findings = await page.$$eval('#compare-findings li', (items) => items.map((i) => i.textContent ?? ''))
      const rows = (run: any): number => tail.reduce((s, c) => s + run.perClass[c].count, 0)
      const mean = (run: any): number => tail.reduce((s, c) => s + run.perClass[c].ce.sum, 0) / rows(run)
      assert.equal(findings[0], `The rarest 2 classes (3, 4): mean cross-entropy per row ${printed(mean(api.a))} in a, ${printed(mean(api.b))} in b ` +
        `(−${printed(mean(api.a) - mean(api.b))}, better in b); b is lower in 2 of 2 classes.`)
    })

    test('a linked run opens on its own, a second page of runs is reached by the cursor, an unknown run shows the service\'s message', async () => {
      const linked = await browser().newPage({ viewport: { width: 1366, height: 900 } })
      linked.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
      await linked.goto(`${origin}/#runs/${b}`)
      assert.equal(await settled(linked, 'runs', 0), 'ready')
      assert.equal(await text(linked, '#run-title'), 'focal checkpoint')
      const run = await get(`/runs/${b}`)
      assert.equal(await text(linked, '#run-totals tbody tr:first-child td'), printed(run.ce.loss))
      await linked.close()

      for (let i = 0; i < 9; i++) await create({ name: `sweep ${i}` })
      assert.equal(await go(page, 'runs'), 'ready')
      const first = await get('/runs?limit=10')
      assert.deepEqual((await cells(page, '#runs-table')).map((r) => r[1]?.value), first.runs.map((r: any) => r.id))
      let v = await version(page, 'runs')
      await page.click('#runs-older')
      assert.equal(await settled(page, 'runs', v), 'ready')
      const second = await get(`/runs?limit=10&cursor=${first.next}`)
      assert.deepEqual((await cells(page, '#runs-table')).map((r) => r[1]?.value), second.runs.map((r: any) => r.id))
      assert.deepEqual(second.runs.map((r: any) => r.id), [a])
      assert.equal(await page.isDisabled('#runs-older'), true)
      v = await version(page, 'runs')
      await page.click('#runs-newer')
      assert.equal(await settled(page, 'runs', v), 'ready')
      assert.equal((await cells(page, '#runs-table')).length, 10)

      const missing = '00000000-0000-4000-8000-000000000000'
      assert.equal(await go(page, `runs/${missing}`), 'error')
      const api = await app.inject({ method: 'GET', url: `/runs/${missing}` })
      assert.equal(api.statusCode, 404)
      assert.equal(await text(page, '#runs-error .error-message'), api.json().message)
      assert.equal(await text(page, '#runs-error .error-head'), 'The service answered 404 Not Found:')
      assert.equal(await go(page, 'runs'), 'ready')
      assert.equal(await page.isHidden('#runs-error'), true)

      for (const url of requests) assert.ok(url.startsWith(`${origin}/`), `${url} is not the service's`)
      assert.deepEqual(problems.filter((p) => !p.includes('404 (Not Found)')), [])
    })
  })
}

describe('the runs on the page behind API_TOKEN', () => {
  test('the list shows the 401 until the token is typed, then reads the runs with it', async () => {
    const token = 'page-runs-token'
    const app = await build(BACKENDS[0], { API_TOKEN: token })
    const page = await browser().newPage({ viewport: { width: 1366, height: 900 } })
    try {
      const origin = await listen(app)
      const created = await app.inject({ method: 'POST', url: '/runs', headers: { authorization: `Bearer ${token}` }, payload: { classes: 3, name: 'guarded' } })
      assert.equal(created.statusCode, 201)
      const sent: string[] = []
      page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/runs')) sent.push(r.headers().authorization ?? 'none') })
      await page.goto(`${origin}/`)
      assert.equal(await settled(page, 'runs', 0), 'error')
      const refused = await app.inject({ method: 'GET', url: '/runs?limit=10' })
      assert.equal(refused.statusCode, 401)
      assert.equal(await text(page, '#runs-error .error-message'), refused.json().message)

      const v = await version(page, 'runs')
      await page.click('.token summary')
      await page.fill('#api-token', token)
      await page.dispatchEvent('#api-token', 'change')
      assert.equal(await settled(page, 'runs', v), 'ready')
      assert.deepEqual((await cells(page, '#runs-table')).map((r) => r[1]?.value), [created.json().id])
      assert.equal(await page.isHidden('#runs-error'), true)
      assert.deepEqual(sent, ['none', `Bearer ${token}`, `Bearer ${token}`], 'the list, then the list and its one run, with the token')
    } finally {
      await page.close()
      await app.close()
    }
  })
})
