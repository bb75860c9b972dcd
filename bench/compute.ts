/**
 * `npm run bench:compute`: what one loss costs in-process, without HTTP, on every installed tfjs
 * backend, split into the steps a JSON request goes through: scan+decode (body bytes -> typed
 * arrays, every element checked; src/wire/json-scan.ts, then the decoder), plan (argument checks, coefficients), kernel (tfjs), finish
 * (reduction). `loss call` is `crossEntropy` / `focalLoss` from src/losses/index.ts (plan + kernel +
 * finish); `batched x16` is the per-request cost (plan included) when 16 plans go through the
 * engine's batcher together, as concurrent HTTP requests do; small batches only, since what it
 * saves is the fixed cost per tfjs op. The bodies are the HTTP bench's (scripts/lib/bodies.ts). `JSON.parse`
 * is shown beside them for scale: it is what Fastify's own parser (and so the HTTP bench's floor)
 * spends on the same body before any decoding.
 */
import os from 'node:os'
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs-core'
import { installedBackends, type BackendName } from '../src/engine/backend.js'
import { Engine } from '../src/engine/index.js'
import { crossEntropy, focalLoss, planCrossEntropy, planFocal, planMany, run, type Plan } from '../src/losses/index.js'
import { execute } from '../src/losses/kernels.js'
import { crossEntropyOptions, decodeInput, focalOptions } from '../src/wire/json/request.js'
import { scanBody } from '../src/wire/json-scan.js'
import { decodedKeys } from '../src/plugins/validator.js'
import { compareRequest } from '../src/wire/json/losses.js'
import { FocalBody as FocalBodySchema } from '../schemas/loss.js'
import { CompareLossesBody as CompareLossesSchema, type CompareLossesBody } from '../schemas/losses.js'
import type { CrossEntropyBody, FocalBody } from '../schemas/loss.js'
import { jsonBody, sigmoidBatch, softmaxBatch } from '../scripts/lib/bodies.js'
import { align } from './report.js'
import { fiveLosses } from './scenarios.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '0.4' },
    backends: { type: 'string' },
    batch: { type: 'string', default: '16' },
    help: { type: 'boolean', default: false }
  }
})
if (values.help) {
  process.stdout.write('usage: npm run bench:compute -- [--duration S per figure, default 0.4] [--backends wasm,cpu] [--batch 16]\n')
  process.exit(0)
}
const budgetMs = Number(values.duration) * 1000
const batchSize = Number(values.batch)
if (!(budgetMs > 0) || !Number.isInteger(batchSize) || batchSize < 1) throw new Error('--duration must be > 0 and --batch a positive integer')

/** Median of per-round means, each round ~1/10 of the budget, after a warmup of 1/5 of it. */
async function time (fn: () => unknown, batched?: () => Promise<unknown>): Promise<number> {
  const once = batched ?? (async () => fn())
  const warmupEnd = performance.now() + budgetMs / 5
  let calls = 0
  do {
    await once()
    calls++
  } while (performance.now() < warmupEnd || calls < 2)
  const per = (budgetMs / 5) / calls
  const perRound = Math.max(1, Math.round(budgetMs / 10 / per))
  const rounds: number[] = []
  const end = performance.now() + budgetMs
  do {
    const t0 = performance.now()
    if (batched === undefined) {
      for (let i = 0; i < perRound; i++) fn()
    } else {
      for (let i = 0; i < perRound; i++) await batched()
    }
    rounds.push((performance.now() - t0) * 1000 / perRound)
  } while (performance.now() < end || rounds.length < 3)
  rounds.sort((a, b) => a - b)
  return rounds[Math.floor(rounds.length / 2)] ?? NaN
}

const BATCHED_MAX_ELEMENTS = 64 * 80

interface Case {
  /** five: /loss/compare with ce, focal, poly, ldam and logit_adjusted (bench/scenarios.ts). */
  readonly loss: 'ce' | 'focal' | 'five'
  readonly activation: 'softmax' | 'sigmoid'
  readonly rows: number
  readonly classes: number
}

const CASES: Case[] = []
for (const [rows, classes] of [[64, 10], [1024, 400]] as const) {
  for (const loss of ['ce', 'focal'] as const) {
    for (const activation of ['softmax', 'sigmoid'] as const) CASES.push({ loss, activation, rows, classes })
  }
}
CASES.push({ loss: 'five', activation: 'softmax', rows: 1024, classes: 400 })

interface Prepared {
  readonly c: Case
  readonly text: string
  readonly bytes: Buffer
  plan (): Plan<unknown>
  call (): unknown
}

function prepare (c: Case): Prepared {
  const batch = c.activation === 'softmax' ? softmaxBatch(1000, c.rows, c.classes) : sigmoidBatch(1000, c.rows, c.classes)
  const bytes = jsonBody(batch, c.activation, c.loss === 'five' ? { losses: fiveLosses(c.classes) } : {})
  const text = bytes.toString()
  const body = JSON.parse(text) as CrossEntropyBody & FocalBody
  const input = decodeInput(body)
  if (c.loss === 'five') {
    const { losses } = compareRequest(body as CompareLossesBody & { losses: NonNullable<CompareLossesBody['losses']> })
    return { c, text, bytes, plan: () => planMany(input, losses), call: () => run(planMany(input, losses)) }
  }
  const ceOptions = crossEntropyOptions(body)
  const fOptions = focalOptions(body)
  return {
    c,
    text,
    bytes,
    plan: () => c.loss === 'ce' ? planCrossEntropy(input, crossEntropyOptions(body)) : planFocal(input, focalOptions(body)),
    call: () => c.loss === 'ce' ? crossEntropy(input, ceOptions) : focalLoss(input, fOptions)
  }
}

const DECODED = decodedKeys(FocalBodySchema)
const DECODED_COMPARE = decodedKeys(CompareLossesSchema)

async function measureCase (engine: Engine, { c, text, bytes, plan, call }: Prepared): Promise<string[]> {
  const sample = plan()
  const outputs = execute(sample.call)
  const parse = await time(() => JSON.parse(text))
  const decode = await time(() => {
    const body = scanBody(bytes, c.loss === 'five' ? DECODED_COMPARE : DECODED) as (CrossEntropyBody & FocalBody) | undefined
    if (body === undefined) throw new Error('the body scanner declined a bench body')
    if (c.loss === 'five') return compareRequest(body as CompareLossesBody & { losses: NonNullable<CompareLossesBody['losses']> })
    decodeInput(body)
    return c.loss === 'ce' ? crossEntropyOptions(body) : focalOptions(body)
  })
  const planning = await time(plan)
  const kernel = await time(() => execute(sample.call))
  const finish = await time(() => sample.finish(outputs))
  const whole = await time(call)
  // Batching saves the fixed cost per tfjs op, which matters for small batches; large ones would only take long.
  const batched = c.rows * c.classes > BATCHED_MAX_ELEMENTS
    ? NaN
    : await time(() => undefined, async () => {
      await Promise.all(Array.from({ length: batchSize }, async () => await engine.score(plan())))
    }) / batchSize
  const us = (n: number): string => Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(1) : n.toFixed(0)
  return [engine.backend ?? '?', c.loss, c.activation, `${c.rows}x${c.classes}`, us(parse), us(decode), us(planning), us(kernel), us(finish),
    us(whole), us(batched), us(decode + whole)]
}

async function main (): Promise<void> {
  const available = await installedBackends()
  const wanted = values.backends === undefined ? available : values.backends.split(',').map((b) => b.trim() as BackendName)
  const missing = wanted.filter((b) => !available.includes(b))
  if (missing.length > 0) throw new Error(`backend ${missing.join(', ')} is not installed; installed: ${available.join(', ')}`)
  const lines: string[][] = [['backend', 'loss', 'activation', 'shape', '(JSON.parse)', 'scan+decode', 'plan', 'kernel', 'finish', 'loss call',
    `batched x${batchSize}`, 'scan+decode+call']]
  const notes: string[] = []
  const prepared = CASES.map(prepare)
  for (const backend of wanted) {
    const engine = new Engine({ backend, maxRows: 65536, waitMicros: 0 })
    await engine.init()
    const before = tf.memory().numTensors
    if (backend === 'wasm') {
      notes.push(`wasm: SIMD ${String(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'))}, threads ${String(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'))}`)
    }
    // Every case runs a few times first, so that no figure pays for the backend's first use of a kernel.
    for (const p of prepared) for (let i = 0; i < 3; i++) p.call()
    const totals = new Map<string, number>()
    for (const p of prepared) {
      process.stderr.write(`  ${backend} ${p.c.loss} ${p.c.activation} ${p.c.rows}x${p.c.classes}\n`)
      const line = await measureCase(engine, p)
      lines.push(line)
      totals.set(`${p.c.loss} ${p.c.activation} ${p.c.rows}x${p.c.classes}`, Number(line.at(-1)))
    }
    const five = totals.get('five softmax 1024x400') ?? NaN
    const ce = totals.get('ce softmax 1024x400') ?? NaN
    notes.push(`${backend}: five-loss compare / ce at 1024x400 softmax (scan+decode+call): ${(five / ce).toFixed(2)}x`)
    const after = tf.memory().numTensors
    notes.push(`${backend}: tf.memory().numTensors ${before} before, ${after} after${after === before ? '' : '  <-- LEAK'}`)
  }
  process.stdout.write([
    `bench:compute  node ${process.version}  tfjs ${tf.version_core}  ${os.availableParallelism()} x ${os.cpus()[0]?.model ?? '?'}`,
    `microseconds per call, median of rounds (${values.duration} s per figure); in-process, no HTTP`,
    '',
    align(lines),
    '',
    ...notes,
    ''
  ].join('\n'))
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:compute failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
