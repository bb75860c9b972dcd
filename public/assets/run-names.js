/**
 * How the runs views name and link runs, shared by the list, the run view and the comparison.
 * Hashes mirror the API's paths: #runs/{id} shows GET /runs/{id}, #runs/{a}/compare/{b} its comparison.
 */

/** How often an open run is read again while it is shown. */
export const POLL_MS = 2000

export const runHash = (id) => `runs/${encodeURIComponent(id)}`
export const compareHash = (a, b) => `runs/${encodeURIComponent(a)}/compare/${encodeURIComponent(b)}`

export const runLabel = (run) => run.name ?? `run ${run.id.slice(0, 8)}`

/** A time to the second, in UTC: the same on every screen the run is linked from. */
export const when = (iso) => iso === null ? '–' : `${iso.slice(0, 19).replace('T', ' ')} UTC`
