/**
 * What the evaluation metrics are asked for, checked once per request. Messages name each field
 * through `name`, so the JSON API (`topk[1]`) and V2 (`parameters.topk[1]`) say it their way.
 */
import { invalid } from '../errors.js'

/** Training samples per class, split into shot groups as Liu et al. 2019 (OLTR) do. */
export interface ShotOptions {
  readonly counts: Float64Array
  /** Classes with more than `many` training samples are "many-shot" (default 100). */
  readonly many: number
  /** Classes with fewer than `few` are "few-shot" (default 20); the rest are "medium". */
  readonly few: number
}

export type ConfusionForm = 'dense' | 'sparse'

export interface MetricsOptions {
  /** Ascending, distinct, each in [1, C]. */
  readonly topk: readonly number[]
  readonly calibrationBins: number
  readonly confusion: ConfusionForm | undefined
  readonly shots: ShotOptions | undefined
  /**
   * torchmetrics' `thresholds=K` for AP and AUROC (constant-size binned counts, what runs use);
   * undefined = `thresholds=None`, exact from every score of the batch.
   */
  readonly thresholds: number | undefined
}

export interface RawShots {
  readonly counts: ArrayLike<number>
  readonly many?: number | undefined
  readonly few?: number | undefined
}

export interface RawMetricsOptions {
  readonly topk?: readonly number[] | undefined
  readonly calibrationBins?: number | undefined
  readonly confusion?: string | undefined
  readonly shots?: RawShots | undefined
  readonly thresholds?: number | undefined
}

export const DEFAULT_TOPK: readonly number[] = [1, 5]
export const DEFAULT_BINS = 15
export const MAX_BINS = 10000
export const MAX_THRESHOLDS = 10000
/** An evaluation run's AP/AUROC thresholds unless it names its own: binned counts keep a run's size fixed. */
export const RUN_THRESHOLDS = 100
export const DEFAULT_MANY = 100
export const DEFAULT_FEW = 20

export type FieldName = (field: string) => string

/**
 * Checks and completes the options for a batch of `classes` classes. Without an explicit `topk`
 * the default [1, 5] keeps only the k <= C (so [1] for C < 5); an explicit list must fit.
 */
export function metricsOptions (raw: RawMetricsOptions, classes: number, name: FieldName): MetricsOptions {
  return {
    topk: raw.topk === undefined ? DEFAULT_TOPK.filter((k) => k <= classes) : checkTopk(raw.topk, classes, name),
    calibrationBins: raw.calibrationBins === undefined ? DEFAULT_BINS : checkInteger(name('calibrationBins'), raw.calibrationBins, 1, MAX_BINS),
    confusion: checkConfusion(raw.confusion, name),
    shots: raw.shots === undefined ? undefined : checkShots(raw.shots, classes, name),
    // torchmetrics needs at least 2 thresholds (0 and 1).
    thresholds: raw.thresholds === undefined ? undefined : checkInteger(name('thresholds'), raw.thresholds, 2, MAX_THRESHOLDS)
  }
}

function checkInteger (field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value)) invalid(`${field} = ${value} must be an integer`)
  if (value < min || value > max) invalid(`${field} = ${value} is outside [${min}, ${max}]`)
  return value
}

function checkTopk (topk: readonly number[], classes: number, name: FieldName): number[] {
  if (topk.length === 0) invalid(`${name('topk')} must not be empty`)
  const seen = new Set<number>()
  topk.forEach((k, i) => {
    checkInteger(`${name('topk')}[${i}]`, k, 1, classes)
    if (seen.has(k)) invalid(`${name('topk')}[${i}] = ${k} is repeated`)
    seen.add(k)
  })
  return [...topk].sort((a, b) => a - b)
}

function checkConfusion (form: string | undefined, name: FieldName): ConfusionForm | undefined {
  if (form === undefined || form === 'dense' || form === 'sparse') return form
  return invalid(`${name('confusion')} = ${JSON.stringify(form)} must be "dense" or "sparse"`)
}

function checkShots (raw: RawShots, classes: number, name: FieldName): ShotOptions {
  const { counts } = raw
  if (counts.length !== classes) invalid(`${name('shots.counts')} has ${counts.length} values, expected ${classes} (one per class)`)
  const out = new Float64Array(classes)
  for (let c = 0; c < classes; c++) {
    const v = counts[c] as number
    if (!Number.isFinite(v)) invalid(`${name('shots.counts')}[${c}] = ${v} must be a finite number`)
    if (v < 0) invalid(`${name('shots.counts')}[${c}] = ${v} must be >= 0`)
    out[c] = v
  }
  const many = raw.many ?? DEFAULT_MANY
  const few = raw.few ?? DEFAULT_FEW
  if (!Number.isFinite(many)) invalid(`${name('shots.many')} = ${many} must be a finite number`)
  if (!Number.isFinite(few)) invalid(`${name('shots.few')} = ${few} must be a finite number`)
  if (many <= few) invalid(`${name('shots.many')} = ${many} must be > ${name('shots.few')} = ${few}`)
  return { counts: out, many, few }
}
