/**
 * Many / medium / few-shot groups (Liu et al. 2019, "Large-Scale Long-Tailed Recognition in an
 * Open World", OLTR `shot_acc`): a class is many-shot with more than `many` training samples,
 * few-shot with fewer than `few`, medium otherwise.
 * @see https://github.com/zhmiao/OpenLongTailRecognition-OLTR/blob/master/utils.py
 */
import type { ShotOptions } from './options.js'
import type { MulticlassStats } from './types.js'

export interface ShotGroup {
  /** Classes in the group (by training counts), whether or not the batch has rows of them. */
  readonly classes: number
  /** Batch rows whose target class is in the group. */
  readonly rows: number
  /** OLTR's shot accuracy: the mean over the group's classes present in the batch of their accuracy (recall); null with no rows. */
  readonly accuracy: number | null
  /** Correct rows / rows of the group (equals `accuracy` on a class-balanced batch); null with no rows. */
  readonly rowAccuracy: number | null
  /** Per loss name (e.g. `ce`, `focal`): the mean per-row loss over the group's rows (Σ of its classes' loss sums / rows); null with no rows. */
  readonly [loss: string]: number | null
}

export interface ShotGroups {
  readonly many: ShotGroup
  readonly medium: ShotGroup
  readonly few: ShotGroup
}

export function shotGroups (stats: MulticlassStats, shots: ShotOptions, perClassLoss?: Readonly<Record<string, Float64Array>>): ShotGroups {
  const names = perClassLoss === undefined ? [] : Object.keys(perClassLoss)
  const group = (member: (count: number) => boolean): ShotGroup => {
    let classes = 0
    let rows = 0
    let correct = 0
    let present = 0
    let accuracy = 0
    const sums = names.map(() => 0)
    for (let c = 0; c < stats.classes; c++) {
      if (!member(shots.counts[c] as number)) continue
      classes++
      const n = stats.target[c] as number
      const k = stats.correct[c] as number
      rows += n
      correct += k
      if (n > 0) { present++; accuracy += k / n }
      names.forEach((name, i) => { sums[i] = (sums[i] as number) + (((perClassLoss as Record<string, Float64Array>)[name] as Float64Array)[c] as number) })
    }
    const out: Record<string, number | null> = {
      classes,
      rows,
      accuracy: present > 0 ? accuracy / present : null,
      rowAccuracy: rows > 0 ? correct / rows : null
    }
    names.forEach((name, i) => { out[name] = rows > 0 ? (sums[i] as number) / rows : null })
    return out as ShotGroup
  }
  return {
    many: group((n) => n > shots.many),
    medium: group((n) => n >= shots.few && n <= shots.many),
    few: group((n) => n < shots.few)
  }
}
