/**
 * How the runs views name and link runs and their losses, shared by the list, the run view and the
 * comparison. Hashes mirror the API's paths: #runs/{id} shows GET /runs/{id}, #runs/{a}/compare/{b}
 * its comparison.
 */
import { COLORS } from './charts.js'
import { LOSSES } from './loss-picker.js'

/** How often an open run is read again while it is shown. */
export const POLL_MS = 2000

export const runHash = (id) => `runs/${encodeURIComponent(id)}`
export const compareHash = (a, b) => `runs/${encodeURIComponent(a)}/compare/${encodeURIComponent(b)}`

export const runLabel = (run) => run.name ?? `run ${run.id.slice(0, 8)}`

/** A time to the second, in UTC: the same on every screen the run is linked from. */
export const when = (iso) => iso === null ? '–' : `${iso.slice(0, 19).replace('T', ' ')} UTC`

/** The names a run scores its losses under, in order; a run that names none scores cross-entropy and focal loss. */
export const lossNames = (run) => run.losses ?? ['ce', 'focal']

/**
 * Each loss of a run as the views show it: `key` its name in the reply, `label` and `short` in
 * words (a name of the run's own, such as poly1, is shown as given, with its kind when the run's
 * options say it), and a colour of its own even when two losses share a kind.
 */
export function runLosses (run) {
  const used = new Set()
  return lossNames(run).map((key, i) => {
    const entry = run.options?.losses?.find((l) => (l.name ?? l.loss) === key)
    const kind = LOSSES.find((l) => l.key === (entry?.loss ?? key))
    const own = kind === undefined || kind.key !== key
    const fallback = COLORS.curves[i % COLORS.curves.length]
    const color = kind !== undefined && !used.has(kind.color) ? kind.color : fallback
    used.add(color)
    return {
      key,
      label: own ? (kind === undefined ? key : `${key} (${kind.label})`) : kind.label,
      short: own ? key : kind.short,
      color
    }
  })
}
