/**
 * Built-in batches: a long-tailed label distribution (class c has n_0 · r^(-c/(C-1)) rows, the
 * exponential profile of CIFAR-LT and close to Kinetics' tail) scored by a model that has learned
 * the head better than the tail: it leans towards frequent classes, separates rare ones with a
 * smaller margin, and is confidently wrong on a few rows. Seeded, so every load is the same batch.
 */

export const EXAMPLES = {
  'longtail-10': { title: 'long tail, 10 classes', classes: 10, head: 300, imbalance: 60, hardRate: 0.04, seed: 2017 },
  'longtail-20': { title: 'long tail, 20 classes', classes: 20, head: 400, imbalance: 100, hardRate: 0.04, seed: 1708 }
}

/** mulberry32: a small, fast seeded generator; Math.random cannot be seeded. */
function generator (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const round = (v) => Math.round(v * 100) / 100

/** { logits [N][C], labels [N], counts [C] } for one of EXAMPLES. */
export function longTailBatch ({ classes, head, imbalance, hardRate, seed }) {
  const random = generator(seed)
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
  const counts = Array.from({ length: classes }, (_, c) => Math.max(1, Math.round(head * imbalance ** (-c / (classes - 1)))))
  const prior = counts.map((n) => 0.8 * Math.log(n / head))
  const labels = counts.flatMap((n, c) => Array(n).fill(c))
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[labels[i], labels[j]] = [labels[j], labels[i]]
  }
  const logits = labels.map((y) => {
    const row = prior.map((b) => b + 1.2 * gauss())
    row[y] += 2 + 3 * Math.log(counts[y]) / Math.log(head) + 0.8 * gauss()
    if (random() < hardRate) {
      const wrong = (y + 1 + Math.floor(random() * (classes - 1))) % classes
      row[wrong] = row[y] + 3 + 2 * random()
    }
    return row.map(round)
  })
  return { logits, labels, counts }
}
