/**
 * The page's loss picker, Poly-1 curves and metrics view, in headless Chromium against the
 * production app (the setup of page.test.ts): what the page sends is read off the wire, the same
 * body is posted to the service, and every number the page draws or prints is checked against that
 * answer, exactly (data-value, chart data) and as printed (4 significant digits, shares to 0.1%).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs-core'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import { listen, newPage, settled, useBrowser, version } from './browser.js'
import { BACKENDS, build, post } from '../helper.js'

const drawn = async (page: Page, chart: string): Promise<{ labels: string[], data: Array<Array<number | null>> }> =>
  await page.evaluate((name) => {
    const plot = (window as any).lossPage.charts[name].plot
    return { labels: plot.series.map((s: { label: string }) => s.label), data: plot.data.map((a: ArrayLike<number | null>) => Array.from(a)) }
  }, chart)

const state = async (page: Page, path: string): Promise<any> =>
  await page.evaluate((p) => p.split('.').reduce((o: any, k) => o?.[k], (window as any).lossPage), path)

/** Each body row of a table as [text, data-value] per cell. */
const table = async (page: Page, selector: string): Promise<Array<Array<[string, string]>>> =>
  await page.$$eval(`${selector} tbody tr`, (rows) => rows.map((r) => Array.from(r.children, (c) => [c.textContent ?? '', (c as HTMLElement).dataset.value ?? ''] as [string, string])))

const heads = async (page: Page, selector: string): Promise<string[]> =>
  await page.$$eval(`${selector} thead th:not([hidden])`, (ths) => ths.map((th) => th.textContent ?? ''))

/** A loss as the page prints it: 4 significant digits, an exponent below 1e-3 or from 1e5. */
const four = (v: number): string => v === 0 ? '0' : Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(4)))
/** A share or an accuracy as the page prints it: percent to 0.1 (two significant digits below 0.1%). */
const percent = (v: number): string => v > 0 && v < 0.001 ? `${(100 * v).toPrecision(2)}%` : `${(100 * v).toFixed(1)}%`

/** A cell shows `value`: exactly in data-value, and as text rounded to the page's printed precision. */
function shows ([text, value]: [string, string] | undefined = ['', ''], expected: number | null, print: (v: number) => string = four, what = ''): void {
  if (expected === null) {
    assert.equal(text, '–', what)
    return
  }
  assert.equal(value, String(expected), what)
  assert.equal(text, print(expected), what)
}

const close = (a: number, b: number, rel: number, abs: number): boolean => Math.abs(a - b) <= abs + rel * Math.abs(b)

const LABELS: Record<string, string> = {
  ce: 'cross-entropy', focal: 'focal loss', poly: 'Poly-1', ldam: 'LDAM', logit_adjusted: 'logit-adjusted CE', seesaw: 'seesaw', asymmetric: 'asymmetric loss'
}

const browser = useBrowser()

for (const backend of BACKENDS) {
  describe(`the page's losses and metrics on ${backend}`, () => {
    let app: FastifyInstance
    let page: Page
    let tensors: number
    const problems: string[] = []
    // Training rows per class typed into the form: ten times the example batch's rows, so the
    // class-count losses and the shot groups visibly read these and not the batch's label counts.
    let training: number[] = []

    before(async () => {
      app = await build(backend)
      const origin = await listen(app)
      page = await newPage(browser(), problems)
      assert.equal((await page.goto(`${origin}/`))?.status(), 200)
      assert.equal(await settled(page, 'curves', 0), 'ready')
      assert.equal(await settled(page, 'explorer', 0), 'ready')
      training = (await state(page, 'batch.reply.perClass')).map((c: { count: number }) => 10 * c.count)
      tensors = tf.memory().numTensors
    })

    after(async () => {
      await page?.close()
      await app?.close()
    })

    test('the picked losses, with their options, are the request\'s losses list, and every one is shown as the service answers it', async () => {
      await page.fill('#cb-counts', training.join(', '))
      for (const key of ['poly', 'ldam', 'logit_adjusted', 'seesaw']) await page.check(`input[data-loss="${key}"]`)
      assert.equal(await page.isDisabled('input[data-loss="asymmetric"]'), true, 'asymmetric is sigmoid only')
      assert.equal(await page.isDisabled('#poly-gamma'), true, 'Poly-1 CE has no γ')
      await page.selectOption('#poly-base', 'focal')
      await page.fill('#poly-epsilon', '2')
      await page.fill('#poly-gamma', '1')
      await page.fill('#ldam-margin', '0.4')
      await page.fill('#ldam-scale', '20')
      await page.fill('#la-tau', '1.5')
      await page.fill('#seesaw-p', '0.6')
      await page.fill('#seesaw-q', '1.5')
      const v = await version(page, 'explorer')
      const sent = page.waitForRequest((r) => r.url().endsWith('/loss/compare'))
      await page.click('#score')
      const body = (await sent).postDataJSON()
      assert.equal(await settled(page, 'explorer', v), 'ready')
      assert.deepEqual(body.losses, [
        { loss: 'ce' },
        { loss: 'focal', gamma: 2, alpha: null },
        { loss: 'poly', base: 'focal', epsilon: 2, gamma: 1, alpha: null },
        { loss: 'ldam', classCounts: training, maxMargin: 0.4, scale: 20 },
        { loss: 'logit_adjusted', classCounts: training, tau: 1.5 },
        { loss: 'seesaw', classCounts: training, p: 0.6, q: 1.5 }
      ])
      const api = await post(app, '/loss/compare', body)
      assert.equal(api.status, 200)
      const { reply, losses } = await state(page, 'batch')
      assert.deepEqual(reply, api.json)
      const keys: string[] = losses.map((l: { key: string }) => l.key)
      assert.deepEqual(keys, ['ce', 'focal', 'poly', 'ldam', 'logit_adjusted', 'seesaw'])
      const answer = api.json

      const totals = await table(page, '#totals')
      assert.deepEqual(totals.map((r) => r[0]?.[0]), keys.map((k) => LABELS[k]))
      totals.forEach((row, i) => {
        const r = answer[keys[i] as string]
        shows(row[1], r.loss, four, `${keys[i]} mean`)
        shows(row[2], r.sum, four, `${keys[i]} sum`)
        shows(row[3], r.normalizer, four, `${keys[i]} normalizer`)
      })

      assert.deepEqual(await heads(page, '#class-table'), ['class', 'rows', 'rows share',
        'CE sum', 'CE share', 'focal sum', 'focal share', 'Poly-1 sum', 'Poly-1 share', 'LDAM sum', 'LDAM share', 'LA sum', 'LA share', 'seesaw sum', 'seesaw share',
        'shift focal', 'shift Poly-1', 'shift LDAM', 'shift LA', 'shift seesaw'])
      const total = (k: string): number => answer.perClass.reduce((a: number, c: any) => a + c[k].sum, 0)
      const classRows = await table(page, '#class-table')
      assert.equal(classRows.length, answer.perClass.length)
      classRows.forEach((row, c) => {
        const entry = answer.perClass[c]
        shows(row[1], entry.count, String)
        keys.forEach((k, i) => {
          shows(row[3 + 2 * i], entry[k].sum, four, `class ${c} ${k} sum`)
          assert.equal(row[4 + 2 * i]?.[0], percent(entry[k].sum / total(k)), `class ${c} ${k} share`)
        })
      })

      const bars = await drawn(page, 'classes')
      assert.deepEqual(bars.labels, ['class', 'rows', ...keys.map((k) => LABELS[k])])
      keys.forEach((k, i) => bars.data[i + 2]?.forEach((share, c) => assert.ok(close(share ?? NaN, answer.perClass[c][k].sum / total(k), 1e-12, 0), `${k} class ${c}`)))

      assert.deepEqual(await page.$$eval('#rank-by option', (os) => os.map((o) => (o as HTMLOptionElement).value)), keys)
      assert.equal(await page.inputValue('#rank-by'), 'focal')
      await page.selectOption('#rank-by', 'seesaw')
      const hardest = await table(page, '#hardest-table')
      assert.equal(hardest.length, 10)
      hardest.forEach((row, i) => {
        const top = answer.seesaw.hardest[i]
        assert.equal(row[0]?.[1], JSON.stringify(top.index))
        assert.equal(row[1]?.[1], String(top.label))
        keys.forEach((k, j) => {
          const at = answer[k].hardest.findIndex((r: any) => r.index === top.index)
          shows(row[2 + 3 * j], answer[k].hardest[at].loss, four, `row ${String(top.index)} ${k}`)
          shows(row[4 + 3 * j], at + 1, String, `row ${String(top.index)} ${k} rank`)
        })
      })
      const lines = await drawn(page, 'concentration')
      assert.deepEqual(lines.labels, ['rows', ...keys.map((k) => LABELS[k]), 'even spread'])
      assert.equal(tf.memory().numTensors, tensors)
    })

    test('the metrics view is the same answer\'s metrics: headline numbers, reliability diagram and shot groups with every loss', async () => {
      const { request, reply } = await state(page, 'batch')
      assert.equal(request.metrics, true)
      assert.equal(request.calibrationBins, 15)
      assert.deepEqual(request.shots, { counts: training, many: 100, few: 20 })
      const { metrics } = (await post(app, '/loss/compare', request)).json
      assert.deepEqual(reply.metrics, metrics)
      assert.equal(metrics.kind, 'multiclass')

      const headline = await table(page, '#metrics-table')
      assert.deepEqual(headline.map((r) => r[0]?.[0]), ['accuracy', 'top-5 accuracy', 'mean class accuracy', 'ECE (expected calibration error)', 'MCE (largest bin gap)',
        'RMSCE (root-mean-square calibration error)', 'Brier score'])
      const expected = [[metrics.accuracy, percent], [metrics.topk['5'], percent], [metrics.meanClassAccuracy, percent], [metrics.ece, four], [metrics.mce, four],
        [metrics.rmsce, four], [metrics.brier, four]] as const
      expected.forEach(([value, print], i) => shows(headline[i]?.[1], value, print, headline[i]?.[0]?.[0]))

      const diagram = await drawn(page, 'reliability')
      assert.deepEqual(diagram.labels, ['bin centre', 'accuracy', 'mean confidence', 'perfect calibration', 'rows'])
      const bins = metrics.reliability as Array<{ lower: number, upper: number, count: number, confidence: number | null, accuracy: number | null }>
      assert.equal(bins.length, 15)
      assert.deepEqual(diagram.data[0], bins.map((b) => (b.lower + b.upper) / 2))
      assert.deepEqual(diagram.data[1], bins.map((b) => b.accuracy))
      assert.deepEqual(diagram.data[2], bins.map((b) => b.confidence))
      assert.deepEqual(diagram.data[3], diagram.data[0], 'the diagonal')
      assert.deepEqual(diagram.data[4], bins.map((b) => b.count))
      const binRows = await table(page, '#reliability-table')
      const filled = bins.filter((b) => b.count > 0)
      assert.ok(filled.length >= 5 && filled.length < 15, `${filled.length} bins hold rows`)
      binRows.forEach((row, i) => {
        const b = filled[i] as typeof filled[number]
        assert.equal(row[0]?.[0], `${four(b.lower)}–${four(b.upper)}`)
        shows(row[1], b.count, String)
        shows(row[2], b.confidence, four)
        shows(row[3], b.accuracy, four)
      })

      assert.deepEqual(await heads(page, '#shot-table'), ['shot group', 'classes', 'rows', 'accuracy', 'cross-entropy', 'focal loss', 'Poly-1', 'LDAM', 'logit-adjusted CE', 'seesaw'])
      const shots = await table(page, '#shot-table')
      const keys = ['ce', 'focal', 'poly', 'ldam', 'logit_adjusted', 'seesaw']
      ;['many', 'medium', 'few'].forEach((g, i) => {
        const group = metrics.shots[g]
        const row = shots[i] ?? []
        assert.equal(row[0]?.[0], g)
        shows(row[1], group.classes, String)
        shows(row[2], group.rows, String)
        shows(row[3], group.accuracy, percent, `${g} accuracy`)
        keys.forEach((k, j) => shows(row[4 + j], group[k], four, `${g} ${k}`))
      })
      assert.equal(metrics.shots.many.classes + metrics.shots.medium.classes + metrics.shots.few.classes, training.length)

      await page.fill('#calibration-bins', '10')
      await page.uncheck('input[data-loss="ldam"]')
      const v = await version(page, 'explorer')
      await page.click('#score')
      assert.equal(await settled(page, 'explorer', v), 'ready')
      const again = await state(page, 'batch')
      assert.equal(again.request.calibrationBins, 10)
      const answer = (await post(app, '/loss/compare', again.request)).json
      assert.deepEqual(again.reply, answer)
      assert.deepEqual((await drawn(page, 'reliability')).data[4], answer.metrics.reliability.map((b: { count: number }) => b.count))
      assert.equal(answer.metrics.reliability.length, 10)
      assert.deepEqual(await heads(page, '#shot-table'), ['shot group', 'classes', 'rows', 'accuracy', 'cross-entropy', 'focal loss', 'Poly-1', 'logit-adjusted CE', 'seesaw'])
      assert.equal(tf.memory().numTensors, tensors)
    })

    test('sigmoid: the softmax-only losses cannot be picked, the asymmetric loss can, and the metrics are multi-label ones without shot groups', async () => {
      await page.selectOption('#activation', 'sigmoid')
      for (const key of ['ldam', 'logit_adjusted', 'seesaw']) assert.equal(await page.isDisabled(`input[data-loss="${key}"]`), true, key)
      await page.check('input[data-loss="asymmetric"]')
      const v = await version(page, 'explorer')
      await page.click('#score')
      assert.equal(await settled(page, 'explorer', v), 'ready')
      const { request, reply } = await state(page, 'batch')
      assert.deepEqual(request.losses.map((l: { loss: string }) => l.loss), ['ce', 'focal', 'poly', 'asymmetric'])
      assert.deepEqual(request.losses[3], { loss: 'asymmetric', gammaPos: 1, gammaNeg: 4, clip: 0.05 })
      assert.equal('shots' in request, false)
      const api = (await post(app, '/loss/compare', request)).json
      assert.deepEqual(reply, api)
      assert.equal(api.metrics.kind, 'multilabel')
      assert.equal(await page.isHidden('#shots'), true)
      const totals = await table(page, '#totals')
      shows(totals[3]?.[1], api.asymmetric.loss, four, 'asymmetric mean')
      await page.uncheck('input[data-loss="asymmetric"]')
      await page.selectOption('#activation', 'softmax')
      assert.equal(tf.memory().numTensors, tensors)
    })

    test('Poly-1 curves beside focal\'s are POST /loss/poly\'s answers: CE + ε(1 − p) and FL + ε(1 − p)^(γ+1)', async () => {
      const before = await drawn(page, 'curves')
      assert.equal(before.labels.length, 6, 'no Poly-1 curve until one is asked for')
      await page.fill('#curve-epsilon', '2')
      await page.fill('#curve-poly-gamma', '3')
      await page.check('#curve-poly-ce')
      await page.check('#curve-poly-focal')
      // Each control's change starts a round and only the newest one draws: wait for the one with both curves.
      await page.waitForFunction(() => (window as any).lossPage.polyCurves.length === 2 && document.getElementById('curves')?.dataset.status === 'ready')
      const now = await drawn(page, 'curves')
      assert.deepEqual(now.labels.slice(6), ['Poly-1 CE, ε = 2', 'Poly-1 focal γ = 3, ε = 2'])
      for (let i = 1; i < 6; i++) assert.deepEqual(now.data[i], before.data[i], 'focal\'s curves stay')
      const polys = await state(page, 'polyCurves')
      assert.deepEqual(polys.map((c: any) => [c.request.base, c.request.epsilon, c.request.gamma, c.request.alpha]), [['ce', 2, undefined, undefined], ['focal', 2, 3, null]])
      const p = (now.data[0] ?? []) as number[]
      for (const [i, curve] of (polys as Array<{ base: string, request: any }>).entries()) {
        assert.equal(curve.request.activation, 'sigmoid')
        assert.equal(curve.request.reduction, 'none')
        assert.ok(curve.request.labels.every((y: number) => y === 1))
        const api = await post(app, '/loss/poly', curve.request)
        assert.equal(api.status, 200)
        assert.deepEqual(now.data[6 + i], api.json.loss, curve.base)
        // Leng et al.'s Poly-1, from the p the page plots, to float32 precision.
        now.data[6 + i]?.forEach((y, k) => {
          const pk = p[k] ?? 0
          const expected = curve.base === 'ce' ? -Math.log(pk) + 2 * (1 - pk) : -((1 - pk) ** 3) * Math.log(pk) + 2 * (1 - pk) ** 4
          assert.ok(close(y ?? NaN, expected, 1e-4, 1e-7), `${curve.base}, p = ${pk}: ${String(y)} vs ${expected}`)
        })
      }
      const v2 = await version(page, 'curves')
      await page.uncheck('#curve-poly-ce')
      assert.equal(await settled(page, 'curves', v2), 'ready')
      assert.deepEqual((await drawn(page, 'curves')).labels.slice(6), ['Poly-1 focal γ = 3, ε = 2'])
      assert.equal(tf.memory().numTensors, tensors)
    })

    test('no errors or warnings in the console', () => {
      assert.deepEqual(problems, [])
    })
  })
}
