/**
 * Two rules for a JSON text that JSON.parse does not enforce:
 *
 * - Nesting stops at MAX_DEPTH arrays and objects, checked before JSON.parse runs. V8's JSON.parse
 *   takes any depth, but slowly (1e6 levels block the event loop for over a second), and every walk
 *   over the parsed value that recurses (forbidden keys, the schema validator, the decoders,
 *   JSON.stringify in a message) overflows the stack a few thousand levels down. The deepest body
 *   that means anything is [N][C][T] logits in an object, 4 levels (6 in a V2 request).
 * - No object holds a key twice, escaped spellings included (`"l\u0061bels"` is `labels`):
 *   JSON.parse keeps the last value without a word, so a client would be scored on what it did not
 *   mean to send.
 *
 * One pass that stops at quotes and brackets only (numbers, the bulk of a body, are jumped over);
 * the path to a problem is worked out only once one is found.
 */
import { InvalidInputError } from '../errors.js'

/** Arrays and objects nested in one another, the whole body counted (`{"logits": [[1]]}` is 3). */
export const MAX_DEPTH = 64

const enum Char {
  Tab = 9, Newline = 10, Return = 13, Space = 32, Quote = 34, Comma = 44, Colon = 58,
  OpenBracket = 91, Backslash = 92, CloseBracket = 93, OpenBrace = 123, CloseBrace = 125
}

/** The characters the pass stops at; everything else (numbers, commas, literals) is jumped over. */
const STOPS = ['"', '[', ']', '{', '}']

/** What one pass over a text found: the first bracket that nests too deep, the first repeated key. */
export interface Structure {
  /** The offset of the first bracket past MAX_DEPTH; the pass stops there. */
  readonly deepAt: number | undefined
  /** The first repeated key, decoded, and the offset of its opening quote. */
  readonly repeat: { readonly at: number, readonly key: string } | undefined
}

/** The index of the quote that closes the string whose opening quote is at `open`. */
function stringEnd (text: string, open: number): number {
  let end = text.indexOf('"', open + 1)
  for (;;) {
    // An unterminated string: the text is no JSON, which JSON.parse will say.
    if (end < 0) return text.length
    let slashes = 0
    while (text.charCodeAt(end - 1 - slashes) === Char.Backslash) slashes++
    if (slashes % 2 === 0) return end
    end = text.indexOf('"', end + 1)
  }
}

const isSpace = (c: number): boolean => c === Char.Space || c === Char.Newline || c === Char.Return || c === Char.Tab

/** Whether the string closed at `end` is an object key: a colon follows it. */
function isKey (text: string, end: number): boolean {
  let i = end + 1
  while (isSpace(text.charCodeAt(i))) i++
  return text.charCodeAt(i) === Char.Colon
}

/** The key whose quotes are at `open` and `end`, escapes decoded (as written when they are invalid). */
function keyText (text: string, open: number, end: number): string {
  const raw = text.slice(open + 1, end)
  if (!raw.includes('\\')) return raw
  try {
    return JSON.parse(text.slice(open, end + 1)) as string
  } catch {
    return raw
  }
}

/**
 * One pass over `text`, a value inside `depth` arrays and objects, which need not be JSON at all;
 * it stops at the first bracket too deep, or with `firstRepeat`, at the first repeated key. It moves
 * from one quote or bracket to the next with one native indexOf per kind of character, which is
 * what keeps a megabyte of numbers cheap: a loop over every character cost 40% of JSON.parse's time.
 */
function scan (text: string, depth: number, firstRepeat: boolean): Structure {
  // One entry per open container: the keys seen so far for an object, undefined for an array.
  const open: Array<Set<string> | undefined> = []
  const n = text.length
  // The next offset of each of STOPS at or after `from` (n when there is none).
  const next = [-1, -1, -1, -1, -1]
  let from = 0
  let repeat: Structure['repeat']
  for (;;) {
    let i = n
    let which = -1
    for (let k = 0; k < 5; k++) {
      let at = next[k] as number
      if (at < from) {
        at = text.indexOf(STOPS[k] as string, from)
        if (at < 0) at = n
        next[k] = at
      }
      if (at < i) {
        i = at
        which = k
      }
    }
    if (which < 0) return { deepAt: undefined, repeat }
    from = i + 1
    if (which === 0) {
      const end = stringEnd(text, i)
      const keys = open[open.length - 1]
      if (keys !== undefined && isKey(text, end)) {
        const key = keyText(text, i, end)
        if (!keys.has(key)) {
          keys.add(key)
        } else if (repeat === undefined) {
          repeat = { at: i, key }
          if (firstRepeat) return { deepAt: undefined, repeat }
        }
      }
      from = end + 1
    } else if (which === 1 || which === 3) {
      if (depth + open.length + 1 > MAX_DEPTH) return { deepAt: i, repeat }
      open.push(which === 3 ? new Set() : undefined)
    } else {
      open.pop()
      // The value has ended: what follows is JSON.parse's to refuse (binary tensors sent without
      // Inference-Header-Content-Length, say, whose bytes would otherwise read as brackets).
      if (open.length === 0) return { deepAt: undefined, repeat }
    }
  }
}

/** Whether `text`, inside `depth` arrays and objects, keeps both rules. */
export function wellFormed (text: string, depth: number): boolean {
  const { deepAt, repeat } = scan(text, depth, true)
  return deepAt === undefined && repeat === undefined
}

interface Frame {
  readonly object: boolean
  /** The key or index of the child being read. */
  step: string | number
}

/** The containers open at offset `at`, outermost first, each with the step to the child being read. */
function framesAt (text: string, at: number): Frame[] {
  const frames: Frame[] = []
  for (let i = 0; i < at; i++) {
    const c = text.charCodeAt(i)
    const top = frames[frames.length - 1]
    if (c === Char.Quote) {
      const end = stringEnd(text, i)
      if (top?.object === true && isKey(text, end)) top.step = keyText(text, i, end)
      i = end
    } else if (c === Char.OpenBracket || c === Char.OpenBrace) {
      frames.push({ object: c === Char.OpenBrace, step: 0 })
    } else if (c === Char.CloseBracket || c === Char.CloseBrace) {
      frames.pop()
    } else if (c === Char.Comma && top?.object === false) {
      top.step = (top.step as number) + 1
    }
  }
  return frames
}

/** `classBalance.counts`, `inputs[0].name`: the steps as the caller wrote them. */
function pathText (steps: ReadonlyArray<string | number>): string {
  return steps.map((step, i) => typeof step === 'number' ? `[${step}]` : i === 0 ? step : `.${step}`).join('')
}

/**
 * The structure of a whole body, before JSON.parse: throws InvalidInputError when it nests too deep,
 * `logits nests deeper than 64 levels, the limit`, naming the field down to the first array in an
 * array or object in an object (`inputs[0].data`), where the nesting stops meaning anything.
 */
export function checkNesting (text: string): Structure {
  const structure = scan(text, 0, false)
  if (structure.deepAt === undefined) return structure
  const frames = framesAt(text, structure.deepAt)
  let end = 1
  while (end < frames.length - 1 && (frames[end] as Frame).object !== (frames[end + 1] as Frame).object) end++
  const steps = frames[0]?.object === true ? frames.slice(0, end).map((f) => f.step) : []
  throw new InvalidInputError(`${steps.length === 0 ? 'body' : pathText(steps)} nests deeper than ${MAX_DEPTH} levels, the limit`)
}

/**
 * After JSON.parse has accepted the body (so that a syntax error is reported as one): throws
 * InvalidInputError at its first repeated key, `classBalance.counts is given twice`.
 */
export function checkKeys (text: string, { repeat }: Structure): void {
  if (repeat === undefined) return
  const frames = framesAt(text, repeat.at)
  throw new InvalidInputError(`${pathText([...frames.slice(0, -1).map((f) => f.step), repeat.key])} is given twice`)
}
