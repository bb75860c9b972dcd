/**
 * A run's metrics over every batch so far: the merged statistics turned into the numbers a batch's
 * metrics report, under the run's options, with the shot groups' mean losses from the run's
 * per-class sums.
 */
import { computeMetrics, perClassMetrics } from '../../evaluation/stats.js'
import { metricsOf, type ScoredMetrics } from '../metrics.js'
import type { ScoreRequest } from '../types.js'
import type { RunState } from './state.js'

/** Undefined for a run without metrics, and before its first batch. `probe` is a batch of the run's options. */
export function runMetrics (state: RunState, probe: ScoreRequest): Omit<ScoredMetrics, 'stats'> | undefined {
  const options = metricsOf(probe)
  if (options === undefined || state.metrics === undefined) return undefined
  const perClassLoss = Object.fromEntries(Object.entries(state.losses).map(([name, totals]) => [name, totals.classSums]))
  return {
    report: computeMetrics(state.metrics, options, options.shots === undefined ? undefined : perClassLoss),
    perClass: perClassMetrics(state.metrics)
  }
}
