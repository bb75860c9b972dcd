/**
 * The page at GET /, in a real browser: Debian's Chromium, headless, driven by playwright-core,
 * against the production app listening on an ephemeral port. What the charts draw and the tables
 * show is read from the page and compared with the service's own answers to the same requests.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import { listen, newPage, settled, useBrowser, version } from './browser.js'
import { BACKENDS, build, post } from '../helper.js'

interface Drawn {
  labels: string[]
  data: number[][]
}

/** What a chart on the page currently draws: its series labels and uPlot's data arrays. */
const drawn = async (page: Page, chart: 'curves' | 'classes' | 'concentration'): Promise<Drawn> =>
  await page.evaluate((name) => {
    const plot = (window as any).lossPage.charts[name].plot
    return { labels: plot.series.map((s: { label: string }) => s.label), data: plot.data.map((a: ArrayLike<number>) => Array.from(a)) }
  }, chart)

const state = async (page: Page, path: string): Promise<any> =>
  await page.evaluate((p) => p.split('.').reduce((o: any, k) => o?.[k], (window as any).lossPage), path)

/** data-value of every cell of a table's body, row by row. */
const tableValues = async (page: Page, selector: string): Promise<string[][]> =>
  await page.$$eval(`${selector} tbody tr`, (rows) => rows.map((r) => Array.from(r.children, (c) => (c as HTMLElement).dataset.value ?? '')))

const close = (a: number, b: number, rel: number, abs: number): boolean => Math.abs(a - b) <= abs + rel * Math.abs(b)

const browser = useBrowser()

for (const backend of BACKENDS) {
  describe(`the page on ${backend}`, () => {
    let app: FastifyInstance
    let page: Page
    let origin: string
    let tensors: number
    const requests: string[] = []
    const problems: string[] = []

    before(async () => {
      app = await build(backend)
      origin = await listen(app)
      page = await newPage(browser(), problems)
      page.on('request', (r) => requests.push(r.url()))
      const res = await page.goto(`${origin}/`)
      assert.equal(res?.status(), 200)
      assert.equal(await settled(page, 'curves', 0), 'ready')
      assert.equal(await settled(page, 'explorer', 0), 'ready')
      tensors = tf.memory().numTensors
    })

    after(async () => {
      await page?.close()
      await app?.close()
    })

    test('the page and everything it loads come from the service, with no errors in the console', async () => {
      const res = await app.inject('/')
      assert.match(String(res.headers['content-type']), /^text\/html/)
      assert.match(String(res.headers['content-security-policy']), /default-src 'self'/)
      assert.ok(requests.length > 0)
      for (const url of requests) assert.ok(url.startsWith(`${origin}/`), `${url} is not the service's`)
      const paths = new Set(requests.map((u) => new URL(u).pathname))
      for (const p of ['/', '/assets/uPlot.esm.js', '/assets/uPlot.min.css', '/assets/main.js', '/loss/focal', '/loss/compare']) assert.ok(paths.has(p), p)
      assert.deepEqual(problems, [])
      const missing = await app.inject('/assets/..%2Fpackage.json')
      assert.equal(missing.statusCode, 404)
      assert.equal(missing.json().message, 'the page has no asset named "../package.json"')
    })

    test('headings name the sections and every control has a label', async () => {
      assert.equal(await page.textContent('h1'), 'Where the loss comes from')
      assert.deepEqual(await page.$$eval('h2', (hs) => hs.map((h) => h.textContent)), [
        'Focal loss against the probability of the true class',
        'Batch explorer: which classes and rows the loss comes from',
        'Evaluation runs: one answer over every batch'
      ])
      const unnamed = await page.$$eval('input, select, textarea, button', (els) => els
        .filter((el) => {
          const labelled = (el as HTMLInputElement).labels?.length ?? 0
          return labelled === 0 && !el.hasAttribute('aria-label') && !el.hasAttribute('aria-labelledby') && (el.tagName !== 'BUTTON' || el.textContent?.trim() === '')
        })
        .map((el) => el.outerHTML))
      assert.deepEqual(unnamed, [])
    })

    test('fits a 1366x768 and a 1920x1080 screen without horizontal scrolling', async () => {
      for (const [width, height] of [[1366, 768], [1920, 1080]] as const) {
        await page.setViewportSize({ width, height })
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
        assert.equal(overflow, 0, `${width}x${height}`)
        const chartWidth = await page.evaluate(() => (window as any).lossPage.charts.curves.plot.width)
        assert.ok(chartWidth > width / 2, `${width}x${height}: the curve chart is ${chartWidth} px wide`)
      }
      await page.setViewportSize({ width: 1366, height: 900 })
    })

    test('the curves are the service\'s /loss/focal answers for γ = 0, 0.5, 1, 2, 5', async () => {
      const curves = await state(page, 'curves')
      const { labels, data } = await drawn(page, 'curves')
      assert.deepEqual(labels, ['pₜ', 'γ = 0', 'γ = 0.5', 'γ = 1', 'γ = 2', 'γ = 5'])
      const p = data[0] ?? []
      assert.ok(p.length >= 100 && (p[0] ?? 1) < 0.01 && (p.at(-1) ?? 0) > 1 - 1e-8, 'p covers (0, 1]')
      assert.ok(p.every((v, i) => i === 0 || v > (p[i - 1] ?? 1)), 'p increases')
      for (const [i, curve] of (curves as Array<{ gamma: number, request: any }>).entries()) {
        assert.equal(curve.request.activation, 'sigmoid')
        assert.equal(curve.request.reduction, 'none')
        assert.equal(curve.request.alpha, null)
        assert.ok(curve.request.labels.every((y: number) => y === 1))
        const api = await post(app, '/loss/focal', curve.request)
        assert.equal(api.status, 200)
        assert.deepEqual(data[i + 1], api.json.loss, `γ = ${curve.gamma}`)
        // The paper's formula, from the p the page plots: -(1 - p)^γ log p, to float32 precision.
        data[i + 1]?.forEach((y, k) => {
          const pk = p[k] ?? 0
          const expected = -((1 - pk) ** curve.gamma) * Math.log(pk)
          assert.ok(close(y, expected, 1e-4, 1e-7), `γ = ${curve.gamma}, p = ${pk}: ${y} vs ${expected}`)
        })
      }
      const ce = await post(app, '/loss/ce', { ...curves[0].request, gamma: undefined, alpha: undefined })
      assert.equal(ce.status, 200)
      data[1]?.forEach((y, k) => assert.ok(close(y, ce.json.loss[k], 1e-6, 1e-9), 'γ = 0 is cross-entropy'))
      assert.equal(tf.memory().numTensors, tensors)
    })

    test('changing γ, adding a curve and switching α on redraw the chart with the service\'s values', async () => {
      const before = await drawn(page, 'curves')
      let v = await version(page, 'curves')
      await page.fill('input[data-curve="3"]', '3')
      await page.dispatchEvent('input[data-curve="3"]', 'change')
      assert.equal(await settled(page, 'curves', v), 'ready')
      let now = await drawn(page, 'curves')
      assert.equal(now.labels[4], 'γ = 3')
      assert.notDeepEqual(now.data[4], before.data[4])
      for (const i of [1, 2, 3, 5]) assert.deepEqual(now.data[i], before.data[i], 'the other curves stay')
      const request = (await state(page, 'curves'))[3].request
      assert.equal(request.gamma, 3)
      assert.deepEqual(now.data[4], (await post(app, '/loss/focal', request)).json.loss)

      v = await version(page, 'curves')
      await page.click('#add-gamma')
      assert.equal(await settled(page, 'curves', v), 'ready')
      now = await drawn(page, 'curves')
      assert.equal(now.labels.at(-1), 'γ = 6')
      const added = (await state(page, 'curves'))[5].request
      assert.deepEqual(now.data[6], (await post(app, '/loss/focal', added)).json.loss)

      const withoutAlpha = now
      v = await version(page, 'curves')
      await page.check('#curve-alpha-on')
      assert.equal(await settled(page, 'curves', v), 'ready')
      now = await drawn(page, 'curves')
      assert.equal(now.labels[1], 'γ = 0, α = 0.25')
      for (const [i, curve] of ((await state(page, 'curves')) as Array<{ request: any }>).entries()) {
        assert.equal(curve.request.alpha, 0.25)
        assert.deepEqual(now.data[i + 1], (await post(app, '/loss/focal', curve.request)).json.loss)
        now.data[i + 1]?.forEach((y, k) => assert.ok(close(y, 0.25 * (withoutAlpha.data[i + 1]?.[k] ?? 0), 1e-6, 1e-12)))
      }
      v = await version(page, 'curves')
      await page.uncheck('#curve-alpha-on')
      assert.equal(await settled(page, 'curves', v), 'ready')
      assert.equal(tf.memory().numTensors, tensors)
    })

    test('the example batch: totals, bars and tables are /loss/compare\'s answer', async () => {
      const { request, reply } = await state(page, 'batch')
      const counts: number[] = reply.perClass.map((c: { count: number }) => c.count)
      assert.equal(counts.length, 10)
      assert.ok(counts.every((n, c) => c === 0 || n <= (counts[c - 1] ?? 0)), `a long tail: ${counts.join(', ')}`)
      assert.ok((counts[0] ?? 0) / (counts[9] ?? 1) >= 50)
      assert.equal(request.breakdown, true)
      assert.equal(request.hardest, request.logits.length)
      assert.deepEqual(request.losses, [{ loss: 'ce' }, { loss: 'focal', gamma: 2, alpha: null }])
      const api = await post(app, '/loss/compare', request)
      assert.equal(api.status, 200)
      assert.deepEqual(reply, api.json)
      const { perClass, ce, focal } = api.json

      assert.deepEqual(await tableValues(page, '#totals'), [
        ['', String(ce.loss), String(ce.sum), String(ce.normalizer)],
        ['', String(focal.loss), String(focal.sum), String(focal.normalizer)]
      ])

      const share = (values: number[]): number[] => {
        const total = values.reduce((a, b) => a + b, 0)
        return values.map((x) => x / total)
      }
      let bars = await drawn(page, 'classes')
      assert.deepEqual(bars.labels, ['class', 'rows', 'cross-entropy', 'focal loss'])
      const expected = [counts, perClass.map((c: any) => c.ce.sum), perClass.map((c: any) => c.focal.sum)].map(share)
      expected.forEach((values, s) => values.forEach((x, c) => assert.ok(close(bars.data[s + 1]?.[c] ?? NaN, x, 1e-12, 0))))
      await page.selectOption('#class-view', 'sum')
      bars = await drawn(page, 'classes')
      assert.deepEqual(bars.data.slice(1), [perClass.map((c: any) => c.ce.sum), perClass.map((c: any) => c.focal.sum)])
      await page.selectOption('#class-view', 'share')

      const classRows = await tableValues(page, '#class-table')
      assert.deepEqual(classRows.map((r) => [r[0], r[1], r[3], r[5]]),
        perClass.map((c: any) => [String(c.class), String(c.count), String(c.ce.sum), String(c.focal.sum)]))

      const hardest = await tableValues(page, '#hardest-table')
      assert.equal(hardest.length, 10)
      const ceOf = new Map(ce.hardest.map((r: any) => [JSON.stringify(r.index), r.loss]))
      hardest.forEach((row, i) => {
        const top = focal.hardest[i]
        assert.deepEqual([row[0], row[1], row[2], row[5]], [JSON.stringify(top.index), String(top.label), String(ceOf.get(JSON.stringify(top.index))), String(top.loss)])
      })

      const { data } = await drawn(page, 'concentration')
      assert.equal(data[1]?.[0], 0)
      assert.ok(close(data[1]?.at(-1) ?? 0, 1, 1e-9, 0) && close(data[2]?.at(-1) ?? 0, 1, 1e-9, 0))
      assert.ok((data[2]?.[82] ?? 0) > (data[1]?.[82] ?? 1), 'focal loss is more concentrated on the hardest rows')
      assert.equal(tf.memory().numTensors, tensors)
    })

    test('class-balanced weights: the weights the service used are listed, and the tail\'s share grows', async () => {
      const tailShare = async (): Promise<number> => {
        const shares: number[] = (await state(page, 'batch.shares.ce'))
        return shares.slice(5).reduce((a, b) => a + b, 0)
      }
      const plain = await tailShare()
      const v = await version(page, 'explorer')
      await page.check('#cb-on')
      assert.equal(await page.isDisabled('#alpha-on'), true)
      await page.click('#score')
      assert.equal(await settled(page, 'explorer', v), 'ready')
      const { request, reply } = await state(page, 'batch')
      const counts = reply.perClass.map((c: { count: number }) => c.count)
      assert.deepEqual(request.classBalance, { counts, beta: 0.999 })
      assert.equal('alpha' in request.losses[1], false)
      const api = await post(app, '/loss/compare', request)
      assert.deepEqual(reply, api.json)
      const weights = (await tableValues(page, '#class-table')).map((r) => r[8])
      assert.deepEqual(weights, api.json.classWeights.map(String))
      assert.ok(await tailShare() > plain + 0.2, 'the rarest half of the classes carries more of the loss')
      await page.uncheck('#cb-on')
      assert.equal(tf.memory().numTensors, tensors)
    })

    test('a broken batch or setting shows the service\'s message word for word', async () => {
      const good = await page.inputValue('#batch-json')
      const cases = [
        { batch: '{"logits": [[1, 2, 3], [0.5, "x", 1]], "labels": [0, 2]}', names: 'logits[1][1]' },
        { batch: '{"logits": [[1, 2, 3], [0.5, 0, 1]], "labels": [0, 3]}', names: 'labels[1]' },
        { batch: '{"logits": [[1, 2, 3]], "labels": [0], "labelSmoothing": 2}', names: 'labelSmoothing' }
      ]
      for (const { batch, names } of cases) {
        await page.fill('#batch-json', batch)
        const v = await version(page, 'explorer')
        const sent = page.waitForRequest((r) => r.url().endsWith('/loss/compare'))
        await page.click('#score')
        const body = (await sent).postDataJSON()
        assert.equal(await settled(page, 'explorer', v), 'error')
        const api = await post(app, '/loss/compare', body)
        assert.equal(api.status, 400)
        assert.ok(api.json.message.includes(names), api.json.message)
        assert.equal(await page.textContent('#batch-error .error-message'), api.json.message)
        assert.equal(await page.textContent('#batch-error .error-head'), 'The service answered 400 Bad Request:')
      }

      await page.fill('#batch-json', '{"logits": [[1, 2]')
      const v = await version(page, 'explorer')
      await page.click('#score')
      assert.equal(await settled(page, 'explorer', v), 'error')
      assert.match(await page.textContent('#batch-error .error-message') ?? '', /^the batch is not valid JSON: /)

      const c = await version(page, 'curves')
      const sent = page.waitForRequest((r) => r.url().endsWith('/loss/focal'))
      await page.fill('input[data-curve="0"]', '-1')
      await page.dispatchEvent('input[data-curve="0"]', 'change')
      const body = (await sent).postDataJSON()
      assert.equal(await settled(page, 'curves', c), 'error')
      const api = await post(app, '/loss/focal', body)
      assert.equal(api.status, 400)
      assert.equal(await page.textContent('#curve-error .error-message'), api.json.message)

      const again = await version(page, 'explorer')
      await page.click('#load-example')
      assert.equal(await settled(page, 'explorer', again), 'ready')
      assert.equal(await page.isHidden('#batch-error'), true)
      assert.equal(await page.inputValue('#batch-json'), good)
      assert.deepEqual(problems.filter((p) => !p.includes('400 (Bad Request)')), [])
      assert.equal(tf.memory().numTensors, tensors)
    })
  })
}
