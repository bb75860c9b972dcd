/**
 * The bench's request bodies: seeded, so every run and both servers see the same bytes. Logits look
 * like a half-trained classifier's (the true class usually wins, not always); labels are long-tailed
 * (Zipf over a shuffled class order), as real class frequencies are. Numbers are written the way
 * `json.dumps(tensor.tolist())` or `JSON.stringify(Array.from(float32Array))` writes float32 values:
 * widened to double, up to 17 significant digits.
 */
import { mulberry32 } from './random.js'

function normal (random: () => number): number {
  const u = 1 - random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
}

/** Class frequencies following Zipf's law (exponent s) over a seeded permutation of the classes. */
function zipf (random: () => number, classes: number, s: number): { cdf: Float64Array, order: Int32Array } {
  const order = new Int32Array(classes)
  for (let c = 0; c < classes; c++) order[c] = c
  for (let c = classes - 1; c > 0; c--) {
    const j = Math.floor(random() * (c + 1))
    const tmp = order[c] ?? 0
    order[c] = order[j] ?? 0
    order[j] = tmp
  }
  const cdf = new Float64Array(classes)
  let total = 0
  for (let r = 0; r < classes; r++) {
    total += 1 / (r + 1) ** s
    cdf[r] = total
  }
  for (let r = 0; r < classes; r++) cdf[r] = (cdf[r] ?? 0) / total
  return { cdf, order }
}

function draw (random: () => number, { cdf, order }: { cdf: Float64Array, order: Int32Array }): number {
  const u = random()
  let lo = 0
  let hi = cdf.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((cdf[mid] ?? 1) < u) lo = mid + 1
    else hi = mid
  }
  return order[lo] ?? 0
}

export interface Batch {
  readonly rows: number
  readonly classes: number
  readonly logits: Float32Array
  /** softmax: one class index per row. */
  readonly index: Int32Array
  /** sigmoid: 0/1 multi-label targets, [rows, classes]. */
  readonly multi: Uint8Array
}

/** A single-label batch: the labelled class gets a margin that is usually, not always, enough. */
export function softmaxBatch (seed: number, rows: number, classes: number): Batch {
  const random = mulberry32(seed)
  const freq = zipf(random, classes, 1.1)
  const logits = new Float32Array(rows * classes)
  const index = new Int32Array(rows)
  for (let i = 0; i < rows; i++) {
    const y = draw(random, freq)
    index[i] = y
    const margin = 2 + 1.5 * normal(random)
    for (let c = 0; c < classes; c++) logits[i * classes + c] = 1.5 * normal(random) + (c === y ? margin : 0)
  }
  return { rows, classes, logits, index, multi: new Uint8Array(0) }
}

/** A multi-label batch (COCO-like): a few positives per row, rarer for tail classes. */
export function sigmoidBatch (seed: number, rows: number, classes: number): Batch {
  const random = mulberry32(seed)
  const { order } = zipf(random, classes, 1)
  const prevalence = new Float64Array(classes)
  for (let r = 0; r < classes; r++) prevalence[order[r] ?? 0] = 0.4 / (r + 1) ** 0.7
  const logits = new Float32Array(rows * classes)
  const multi = new Uint8Array(rows * classes)
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < classes; c++) {
      const positive = random() < (prevalence[c] ?? 0)
      multi[i * classes + c] = positive ? 1 : 0
      logits[i * classes + c] = -2 + 1.5 * normal(random) + (positive ? 3 : 0)
    }
  }
  return { rows, classes, logits, index: new Int32Array(0), multi }
}

function nested (flat: ArrayLike<number>, rows: number, classes: number): number[][] {
  const out = new Array<number[]>(rows)
  for (let i = 0; i < rows; i++) out[i] = Array.from({ length: classes }, (_, c) => flat[i * classes + c] ?? 0)
  return out
}

/** The JSON API body: `{ logits: [N][C], labels: [N] | [N][C], ...options }`. */
export function jsonBody (batch: Batch, activation: 'softmax' | 'sigmoid', options: Record<string, unknown> = {}): Buffer {
  const labels = activation === 'softmax' ? Array.from(batch.index) : nested(batch.multi, batch.rows, batch.classes)
  const body = { logits: nested(batch.logits, batch.rows, batch.classes), labels, ...(activation === 'sigmoid' ? { activation } : {}), ...options }
  return Buffer.from(JSON.stringify(body))
}

/**
 * An Open Inference Protocol request with the binary tensor data extension: a JSON header naming
 * each input with `parameters.binary_data_size`, then the raw little-endian tensors in that order.
 * The header's byte length goes in `Inference-Header-Content-Length`.
 *
 * @see https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md
 */
export function v2BinaryBody (batch: Batch): { body: Buffer, headerLength: number } {
  const logits = Buffer.from(batch.logits.buffer, batch.logits.byteOffset, batch.logits.byteLength)
  const labels = Buffer.from(batch.index.buffer, batch.index.byteOffset, batch.index.byteLength)
  const header = Buffer.from(JSON.stringify({
    inputs: [
      { name: 'logits', shape: [batch.rows, batch.classes], datatype: 'FP32', parameters: { binary_data_size: logits.length } },
      { name: 'labels', shape: [batch.rows], datatype: 'INT32', parameters: { binary_data_size: labels.length } }
    ]
  }))
  return { body: Buffer.concat([header, logits, labels]), headerLength: header.length }
}
