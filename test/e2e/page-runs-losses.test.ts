/**
 * Runs that name their losses and keep metrics, on the page in headless Chromium: two runs scored
 * with cross-entropy, focal loss and a Poly-1 named poly1, with metrics and shot groups, and a third
 * without focal loss. Every number the run view and the comparison show is read from the page and
 * compared with GET /runs/{id} and GET /runs/{a}/compare/{b}, exactly in data-value and chart data,
 * and as printed.
 *
 * PAGE_SCREENSHOT=docs/screenshot.png writes the README's screenshot on the way: the first run's view.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import { cells, go, listen, newPage, percent, printed, settled, signed, text, useBrowser } from './browser.js'
import { C, PER_CLASS, batch, byCount } from './page-runs-data.js'
import { BACKENDS, build, post } from '../helper.js'

const LOSSES = [{ loss: 'ce' }, { loss: 'focal', gamma: 2 }, { loss: 'poly', name: 'poly1' }]
const NAMES = ['ce', 'focal', 'poly1']
const LABELS = ['cross-entropy', 'focal loss', 'poly1 (Poly-1)']
const SHORT = ['CE', 'focal', 'poly1']
/** Training rows per class: classes 0-1 many-shot (> 50), 2 medium, 3-4 few-shot (< 25). */
const SHOTS = { counts: PER_CLASS.map((n) => 10 * n), many: 50, few: 25 }
const METRICS = { metrics: true, topk: [1, 3], calibrationBins: 10, shots: SHOTS }
const GROUPS = ['many', 'medium', 'few']

/** "a, b and c", as the findings list things. */
const listed = (parts: string[]): string => parts.length === 1 ? parts[0] as string : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1) ?? ''}`

const drawn = async (page: Page, chart: string): Promise<{ labels: string[], data: Array<Array<number | null>> }> =>
  await page.evaluate((name) => {
    const plot = (window as any).lossPage.charts[name].plot
    return { labels: plot.series.map((s: { label: string }) => s.label), data: plot.data.map((d: ArrayLike<number | null>) => Array.from(d)) }
  }, chart)

const heads = async (page: Page, selector: string): Promise<string[]> =>
  await page.$$eval(`${selector} thead tr:last-child th`, (ths) => ths.map((th) => th.textContent?.trim() ?? ''))

/** A cell shows `expected`: exactly in data-value, and as `print` prints it. */
function shows (got: { text: string, value: string } | undefined, expected: number | null, print: (v: number | null) => string = printed, what = ''): void {
  assert.equal(got?.value, expected === null ? '' : String(expected), what)
  assert.equal(got?.text, print(expected), what)
}

/** The headline metrics the page lists for these runs, how it prints each, and where the reply keeps it. */
const HEADLINE: Array<[string, (m: any) => number | null, (v: number | null) => string]> = [
  ['accuracy', (m) => m.accuracy, percent],
  ['top-3 accuracy', (m) => m.topk['3'], percent],
  ['mean class accuracy', (m) => m.meanClassAccuracy, percent],
  ['ECE (expected calibration error)', (m) => m.ece, printed],
  ['MCE (largest bin gap)', (m) => m.mce, printed],
  ['RMSCE (root-mean-square calibration error)', (m) => m.rmsce, printed],
  ['Brier score', (m) => m.brier, printed]
]

const browser = useBrowser()

for (const backend of BACKENDS) {
  describe(`runs with named losses and metrics on the page, on ${backend}`, () => {
    let app: FastifyInstance
    let page: Page
    const problems: string[] = []
    let a: string
    let b: string
    let c: string

    const get = async (url: string): Promise<any> => {
      const res = await app.inject({ method: 'GET', url })
      assert.equal(res.statusCode, 200, res.body)
      return res.json()
    }
    const put = async (id: string, batchId: string, body: unknown): Promise<void> => {
      const res = await app.inject({ method: 'PUT', url: `/runs/${id}/batches/${batchId}`, payload: body as object })
      assert.equal(res.statusCode, 200, res.body)
    }
    const create = async (body: Record<string, unknown>): Promise<string> => {
      const res = await post(app, '/runs', { classes: C, hardest: 5, ...body })
      assert.equal(res.status, 201, JSON.stringify(res.json))
      // Runs list newest first by their creation time in ms: distinct times keep the expected order unambiguous.
      await sleep(3)
      return res.json.id
    }

    before(async () => {
      app = await build(backend)
      const origin = await listen(app)
      a = await create({ name: 'cross-entropy checkpoint', losses: LOSSES, ...METRICS })
      b = await create({ name: 'focal checkpoint', losses: LOSSES, ...METRICS })
      c = await create({ name: 'no focal', losses: [{ loss: 'ce' }, { loss: 'poly', name: 'poly1' }] })
      for (let i = 0; i < 2; i++) {
        await put(a, `step${i}`, batch(21 + i, 3, -0.5))
        await put(b, `step${i}`, batch(21 + i, 2.5, 1.5))
        await put(c, `step${i}`, batch(21 + i, 1, 1))
      }
      page = await newPage(browser(), problems)
      assert.equal((await page.goto(`${origin}/`))?.status(), 200)
      assert.equal(await settled(page, 'runs', 0), 'ready')
    })

    after(async () => {
      await page?.close()
      await app?.close()
    })

    test('the list names each run\'s losses, and a run without focal loss shows none', async () => {
      const rows = await cells(page, '#runs-table')
      assert.deepEqual(rows.map((r) => r[1]?.value), [c, b, a])
      const none = await get(`/runs/${c}`)
      assert.deepEqual(none.losses, ['ce', 'poly1'])
      assert.equal('focal' in none, false)
      assert.deepEqual(rows[0]?.slice(7).map((x) => x.text), ['ce, poly1', printed(none.ce.loss), '–'])
      const run = await get(`/runs/${b}`)
      assert.deepEqual(rows[1]?.slice(7).map((x) => x.text), ['ce, focal, poly1', printed(run.ce.loss), printed(run.focal.loss)])
      assert.deepEqual(rows[1]?.slice(8).map((x) => x.value), [String(run.ce.loss), String(run.focal.loss)])
    })

    test('a run view shows each of the run\'s losses: totals, per-class means and shares, hardest rows, chart', async () => {
      assert.equal(await go(page, `runs/${a}`), 'ready')
      const run = await get(`/runs/${a}`)
      assert.deepEqual(await page.evaluate(() => (window as any).lossPage.runs.run), run)
      assert.deepEqual(run.losses, NAMES)
      assert.equal(await text(page, '#run-facts dd[data-field="losses"]'), 'ce, focal, poly1')

      const totals = await cells(page, '#run-totals')
      assert.deepEqual(totals.map((r) => r[0]?.text), LABELS)
      NAMES.forEach((name, i) => {
        shows(totals[i]?.[1], run[name].loss, printed, `${name} mean`)
        shows(totals[i]?.[2], run[name].sum, printed, `${name} sum`)
        shows(totals[i]?.[3], run[name].normalizer, printed, `${name} normalizer`)
      })

      assert.deepEqual(await heads(page, '#run-class-table'), ['class', 'rows', 'rows share',
        'CE mean', 'CE share', 'focal mean', 'focal share', 'poly1 mean', 'poly1 share', 'shift focal', 'shift poly1', 'recall', 'precision', 'F1'])
      const order = byCount(run.perClass)
      const total = (name: string): number => run.perClass.reduce((s: number, x: any) => s + x[name].sum, 0)
      const table = await cells(page, '#run-class-table')
      assert.deepEqual(table.map((r) => r[0]?.value), order.map(String))
      table.forEach((row, i) => {
        const x = run.perClass[order[i] as number]
        NAMES.forEach((name, j) => {
          shows(row[3 + 2 * j], x[name].mean, printed, `class ${x.class} ${name} mean`)
          assert.equal(row[4 + 2 * j]?.text, percent(x[name].sum / total(name)), `class ${x.class} ${name} share`)
        })
        ;['recall', 'precision', 'f1'].forEach((key, j) => shows(row[11 + j], x[key], percent, `class ${x.class} ${key}`))
      })
      await page.click('#run-class-table button[data-sort="mean:poly1"]')
      const poly = (await cells(page, '#run-class-table')).map((r) => Number(r[7]?.value))
      assert.deepEqual(poly, [...poly].sort((x, y) => y - x), 'sorted by poly1, the hardest class first')
      await page.click('#run-class-table button[data-sort="count"]')

      await page.selectOption('#run-class-view', 'mean')
      const bars = await drawn(page, 'runClasses')
      assert.deepEqual(bars.labels, ['class', ...LABELS.map((l) => `${l} (mean)`)])
      assert.deepEqual(bars.data.slice(1), NAMES.map((name) => order.map((k) => run.perClass[k][name].mean)))
      await page.selectOption('#run-class-view', 'share')

      assert.deepEqual(await page.$$eval('#run-rank-by option', (os) => os.map((o) => (o as HTMLOptionElement).value)), NAMES)
      assert.equal(await page.inputValue('#run-rank-by'), 'focal')
      for (const name of NAMES) {
        await page.selectOption('#run-rank-by', name)
        const hardest = await cells(page, '#run-hardest-table')
        assert.equal(hardest.length, 5)
        assert.deepEqual(hardest.map((r) => [r[1]?.text, r[2]?.value, r[3]?.text]), run.hardest[name].map((h: any) => [h.batch, JSON.stringify(h.index), String(h.label)]))
        hardest.forEach((r, i) => shows(r[4], run.hardest[name][i].loss, printed, `${name} hardest ${i}`))
      }
    })

    test('the run\'s metrics: headline numbers, reliability diagram and shot groups with every loss, as GET /runs/{id} answers them', async () => {
      const { metrics } = await get(`/runs/${a}`)
      assert.equal(await page.isVisible('#run-metrics-view'), true)
      const headline = await cells(page, '#run-metrics-table')
      assert.deepEqual(headline.map((r) => r[0]?.text), HEADLINE.map(([label]) => label))
      HEADLINE.forEach(([label, read, print], i) => shows(headline[i]?.[1], read(metrics), print, label))

      const bins = metrics.reliability as Array<{ lower: number, upper: number, count: number, confidence: number | null, accuracy: number | null }>
      assert.equal(bins.length, 10)
      assert.equal(bins.reduce((s, x) => s + x.count, 0), 2 * 31)
      const diagram = await drawn(page, 'runReliability')
      assert.deepEqual(diagram.labels, ['bin centre', 'accuracy', 'mean confidence', 'perfect calibration', 'rows'])
      assert.deepEqual(diagram.data.slice(0, 3), [bins.map((x) => (x.lower + x.upper) / 2), bins.map((x) => x.accuracy), bins.map((x) => x.confidence)])
      assert.deepEqual(diagram.data[4], bins.map((x) => x.count))
      const binRows = await cells(page, '#run-reliability-table')
      assert.deepEqual(binRows.map((r) => r[1]?.value), bins.filter((x) => x.count > 0).map((x) => String(x.count)))

      assert.deepEqual(await heads(page, '#run-shot-table'), ['shot group', 'classes', 'rows', 'accuracy', ...LABELS])
      const shots = await cells(page, '#run-shot-table')
      assert.deepEqual(GROUPS.map((g) => metrics.shots[g].classes), [2, 1, 2])
      GROUPS.forEach((g, i) => {
        const group = metrics.shots[g]
        const row = shots[i] ?? []
        assert.equal(row[0]?.text, g)
        shows(row[1], group.classes, String)
        shows(row[2], group.rows, String)
        shows(row[3], group.accuracy, percent, `${g} accuracy`)
        NAMES.forEach((name, j) => shows(row[4 + j], group[name], printed, `${g} ${name}`))
      })
      const few = metrics.shots.few
      assert.ok((await page.$$eval('#run-findings li', (items) => items.map((x) => x.textContent))).includes(
        `The ${few.classes} few-shot classes (${few.rows} rows) have ${percent(few.accuracy)} accuracy, the ${metrics.shots.many.classes} many-shot ones ${percent(metrics.shots.many.accuracy)}.`))
      if (process.env.PAGE_SCREENSHOT !== undefined && backend === BACKENDS[0]) {
        await page.evaluate(() => document.getElementById('run-totals')?.scrollIntoView())
        await page.screenshot({ path: process.env.PAGE_SCREENSHOT })
      }
    })

    test('the open run view follows a new batch into its metrics', async () => {
      await put(a, 'step2', batch(77, 0.5, 0.5))
      await page.waitForFunction(() => document.querySelector('#run-facts dd[data-field="batches"]')?.textContent === '3', undefined, { timeout: 10_000 })
      const run = await get(`/runs/${a}`)
      assert.equal(run.batches, 3)
      const headline = await cells(page, '#run-metrics-table')
      HEADLINE.forEach(([label, read, print], i) => shows(headline[i]?.[1], read(run.metrics), print, label))
      assert.deepEqual((await drawn(page, 'runReliability')).data[4], run.metrics.reliability.map((x: { count: number }) => x.count))
      assert.deepEqual((await cells(page, '#run-shot-table')).map((r) => r[2]?.value), GROUPS.map((g) => String(run.metrics.shots[g].rows)))
      const totals = await cells(page, '#run-totals')
      NAMES.forEach((name, i) => shows(totals[i]?.[1], run[name].loss, printed, name))
    })

    test('two runs compared: every loss, the metrics with b − a and the shot-group table answer "did focal loss help my tail classes?"', async () => {
      assert.equal(await go(page, `runs/${a}/compare/${b}`), 'ready')
      const api = await get(`/runs/${a}/compare/${b}`)
      assert.deepEqual(await page.evaluate(() => (window as any).lossPage.runs.comparison), api)
      const { difference } = api

      const totals = await cells(page, '#compare-totals')
      assert.deepEqual(totals.slice(3).map((r) => r[0]?.text), LABELS)
      NAMES.forEach((name, i) => {
        const row = totals[3 + i]
        shows(row?.[1], api.a[name].loss, printed, `${name} a`)
        shows(row?.[2], api.b[name].loss, printed, `${name} b`)
        shows(row?.[3], difference[name], (d) => signed(d), `${name} b − a`)
      })

      const metrics = await cells(page, '#compare-metrics')
      assert.deepEqual(metrics.map((r) => r[0]?.text), HEADLINE.map(([label]) => label))
      HEADLINE.forEach(([label, read, print], i) => {
        shows(metrics[i]?.[1], read(api.a.metrics), print, `${label} a`)
        shows(metrics[i]?.[2], read(api.b.metrics), print, `${label} b`)
        shows(metrics[i]?.[3], read(difference.metrics), (d) => signed(d, print), `${label} b − a`)
      })
      assert.equal(metrics[0]?.[3]?.text.startsWith('+'), true, 'b is more accurate')
      assert.equal(await page.getAttribute('#compare-metrics tbody tr:first-child td:last-child', 'class'), 'better')

      assert.deepEqual(await heads(page, '#compare-shot-table'), ['a', 'b', 'a', 'b', ...Array(1 + NAMES.length).fill(['a', 'b', 'b − a']).flat()])
      assert.deepEqual(await page.$$eval('#compare-shot-table thead tr:first-child th', (ths) => ths.map((th) => th.textContent)),
        ['shot group', 'classes', 'rows', 'accuracy', ...LABELS])
      const shots = await cells(page, '#compare-shot-table')
      GROUPS.forEach((g, i) => {
        const [x, y, d] = [api.a.metrics.shots[g], api.b.metrics.shots[g], difference.shots[g]]
        const row = shots[i] ?? []
        assert.equal(row[0]?.text, g)
        assert.deepEqual(row.slice(1, 5).map((cell) => cell.value), [x.classes, y.classes, x.rows, y.rows].map(String))
        shows(row[5], x.accuracy, percent, `${g} accuracy a`)
        shows(row[6], y.accuracy, percent, `${g} accuracy b`)
        shows(row[7], d.accuracy, (v) => signed(v, percent), `${g} accuracy b − a`)
        NAMES.forEach((name, j) => {
          shows(row[8 + 3 * j], x[name], printed, `${g} ${name} a`)
          shows(row[9 + 3 * j], y[name], printed, `${g} ${name} b`)
          shows(row[10 + 3 * j], d[name], (v) => signed(v), `${g} ${name} b − a`)
        })
      })
      const few = difference.shots.few
      assert.ok(few.accuracy > 0 && few.ce < 0, `b is better on the few-shot classes: ${JSON.stringify(few)}`)
      assert.equal(await page.$eval('#compare-shot-table tbody tr:last-child', (r) => r.children[7]?.className), 'better')
      const findings = await page.$$eval('#compare-findings li', (items) => items.map((x) => x.textContent ?? ''))
      assert.equal(findings.at(-1), `The few-shot classes: accuracy ${percent(api.a.metrics.shots.few.accuracy)} in a, ${percent(api.b.metrics.shots.few.accuracy)} in b ` +
        `(+${(100 * few.accuracy).toFixed(1)} points, better in b); b's mean ${listed(LABELS.filter((_, i) => few[NAMES[i] as string] < 0))} per row is lower there.`)

      assert.deepEqual(await heads(page, '#compare-class-table'), ['class', 'rows a', 'rows b', ...SHORT.flatMap((s) => [`${s} a`, `${s} b`, `${s} b − a`])])
      const order = byCount(api.a.perClass.map((x: any, i: number) => ({ class: x.class, count: x.count + api.b.perClass[i].count })))
      const table = await cells(page, '#compare-class-table')
      table.forEach((row, i) => {
        const k = order[i] as number
        assert.equal(row[0]?.value, String(k))
        NAMES.forEach((name, j) => {
          shows(row[3 + 3 * j], api.a.perClass[k][name].mean, printed, `class ${k} ${name} a`)
          shows(row[4 + 3 * j], api.b.perClass[k][name].mean, printed, `class ${k} ${name} b`)
          shows(row[5 + 3 * j], difference.perClass[k][name], (v) => signed(v), `class ${k} ${name} b − a`)
        })
      })
      assert.deepEqual(await page.$$eval('#compare-loss option', (os) => os.map((o) => (o as HTMLOptionElement).value)), NAMES)
      await page.selectOption('#compare-loss', 'poly1')
      const plot = await drawn(page, 'compareClasses')
      assert.deepEqual(plot.labels, ['class', 'poly1 (Poly-1): b − a'])
      assert.deepEqual(plot.data[1], order.map((k) => difference.perClass[k].poly1))
    })

    test('a run compared with one that scores fewer losses shows the losses both score, and no metrics the other lacks', async () => {
      assert.equal(await go(page, `runs/${a}/compare/${c}`), 'ready')
      const api = await get(`/runs/${a}/compare/${c}`)
      const totals = await cells(page, '#compare-totals')
      assert.deepEqual(totals.slice(3).map((r) => r[0]?.text), ['cross-entropy', 'poly1 (Poly-1)'])
      shows(totals[4]?.[3], api.difference.poly1, (d) => signed(d), 'poly1 b − a')
      assert.deepEqual(await heads(page, '#compare-class-table'), ['class', 'rows a', 'rows b', 'CE a', 'CE b', 'CE b − a', 'poly1 a', 'poly1 b', 'poly1 b − a'])
      const metrics = await cells(page, '#compare-metrics')
      shows(metrics[0]?.[1], api.a.metrics.accuracy, percent, 'accuracy a')
      assert.deepEqual(metrics[0]?.slice(2).map((x) => x.text), ['–', '–'])
      assert.equal(await page.isHidden('#compare-shots'), true)
      assert.deepEqual(problems, [])
    })
  })
}
