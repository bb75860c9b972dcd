/** The batches and loss lists test/http/losses*.test.ts share. */

export const ROUTE: Readonly<Record<string, string>> = {
  poly: '/loss/poly', logit_adjusted: '/loss/logit-adjusted', ldam: '/loss/ldam', asymmetric: '/loss/asymmetric', seesaw: '/loss/seesaw'
}

const u = (i: number): number => Math.sin(i * 12.9898) * 5
const N = 24
const C = 6
export const logits = Array.from({ length: N }, (_, i) => Array.from({ length: C }, (_, c) => u(i * C + c)))
export const labels = logits.map((_, i) => i % 5 === 4 ? -100 : (i * 7) % C)
export const classCounts = [500, 200, 80, 20, 5, 1]
/** Five losses, each with its own options; the single-loss routes take the same options at top level. */
export const FIVE = [
  { loss: 'ce', labelSmoothing: 0.1 },
  { loss: 'focal', gamma: 1.5, alpha: null },
  { loss: 'poly', epsilon: 2, name: 'poly1' },
  { loss: 'ldam', classCounts, maxMargin: 0.4, scale: 10 },
  { loss: 'logit_adjusted', classCounts, tau: 0.5 }
]
export const FIVE_BODY = { logits, labels, breakdown: true, hardest: 3, losses: FIVE }
export const SINGLE: Readonly<Record<string, string>> = { ce: '/loss/ce', focal: '/loss/focal', ...ROUTE }
