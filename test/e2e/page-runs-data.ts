/**
 * The runs the page's runs suites create: batches of a long tail over C classes whose true-class
 * logits differ between two "checkpoints", and the order the page shows classes in.
 */

export const C = 5
/** Rows per class in each batch: a long tail. */
export const PER_CLASS = [16, 8, 4, 2, 1]

/**
 * A batch whose true-class logit is `head` on classes 0-1 and `tail` on the others, plus a fixed
 * pseudo-random jitter, so two checkpoints differ in where they are good.
 */
export function batch (seed: number, head: number, tail: number): { logits: number[][], labels: number[] } {
  let s = seed
  const next = (): number => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 - 0.5 }
  const labels = PER_CLASS.flatMap((n, c) => Array<number>(n).fill(c))
  const logits = labels.map((y) => Array.from({ length: C }, (_, c) => Math.round(1000 * ((c === y ? (y < 2 ? head : tail) : 0) + next())) / 1000))
  return { logits, labels }
}

/** Classes by their rows, most first, ties by class: the order the page shows them in. */
export const byCount = (perClass: Array<{ class: number, count: number }>): number[] =>
  [...perClass].sort((a, b) => b.count - a.count || a.class - b.class).map((c) => c.class)
