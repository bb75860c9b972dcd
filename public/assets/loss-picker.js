/**
 * The batch explorer's loss picker: which losses /loss/compare's `losses` list holds, each with its
 * own options read from the form, and the training rows per class that LDAM, logit adjustment and
 * seesaw need (the same counts class-balanced weights and the shot groups use).
 */
import { COLORS } from './charts.js'

/** Every loss the picker offers: its key (the reply's name for it), its label, and whether it needs softmax or sigmoid. */
export const LOSSES = [
  { key: 'ce', label: 'cross-entropy', short: 'CE' },
  { key: 'focal', label: 'focal loss', short: 'focal' },
  { key: 'poly', label: 'Poly-1', short: 'Poly-1' },
  { key: 'ldam', label: 'LDAM', short: 'LDAM', only: 'softmax' },
  { key: 'logit_adjusted', label: 'logit-adjusted CE', short: 'LA', only: 'softmax' },
  { key: 'seesaw', label: 'seesaw', short: 'seesaw', only: 'softmax' },
  { key: 'asymmetric', label: 'asymmetric loss', short: 'ASL', only: 'sigmoid' }
].map((l) => ({ ...l, color: COLORS.losses[l.key] }))

export function lossPicker (root) {
  const field = (id) => root.querySelector(`#${id}`)
  const number = (id) => Number(field(id).value)
  const box = (key) => root.querySelector(`input[data-loss="${key}"]`)

  /** Focal's α as the request states it: a number, null (off), or absent where class-balanced weights replace it. */
  function alpha () {
    if (field('cb-on').checked) return {}
    return { alpha: field('alpha-on').checked ? number('alpha') : null }
  }

  /** The options of one loss; `counts` are the training rows per class. */
  function entry (key, counts) {
    switch (key) {
      case 'focal': return { loss: key, gamma: number('gamma'), ...alpha() }
      case 'poly': {
        const base = field('poly-base').value
        return { loss: key, base, epsilon: number('poly-epsilon'), ...(base === 'focal' ? { gamma: number('poly-gamma'), ...alpha() } : {}) }
      }
      case 'ldam': return { loss: key, classCounts: counts, maxMargin: number('ldam-margin'), scale: number('ldam-scale') }
      case 'logit_adjusted': return { loss: key, classCounts: counts, tau: number('la-tau') }
      case 'seesaw': return { loss: key, classCounts: counts, p: number('seesaw-p'), q: number('seesaw-q') }
      case 'asymmetric': return { loss: key, gammaPos: number('asl-gamma-pos'), gammaNeg: number('asl-gamma-neg'), clip: number('asl-clip') }
      default: return { loss: key }
    }
  }

  /** The losses checked and usable with the chosen activation, in the picker's order. */
  const picked = () => LOSSES.filter((l) => box(l.key).checked && !box(l.key).disabled)

  /** A loss that needs the other activation cannot be picked; its options follow its checkbox. */
  function sync () {
    const activation = field('activation').value
    for (const l of LOSSES) {
      const input = box(l.key)
      input.disabled = l.only !== undefined && l.only !== activation
      for (const option of input.closest('.pick').querySelectorAll('input:not([data-loss]), select')) {
        option.disabled = input.disabled || !input.checked || (option.id === 'poly-gamma' && field('poly-base').value !== 'focal')
      }
    }
    field('alpha').disabled = field('alpha').disabled || field('cb-on').checked || !field('alpha-on').checked
    field('alpha-on').disabled = field('alpha-on').disabled || field('cb-on').checked
  }

  root.querySelector('#loss-picker').addEventListener('change', sync)
  field('activation').addEventListener('change', sync)
  field('cb-on').addEventListener('change', sync)
  sync()
  return { picked, entries: (counts) => picked().map((l) => entry(l.key, counts)) }
}
