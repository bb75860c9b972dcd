/**
 * Loss options as the core's specs, for every transport: a record of option values in the JSON API's
 * spelling (camelCase; V2 renames its snake_case keys first) becomes a `LossSpec`, and a `losses`
 * list becomes the named losses of a comparison. Types are checked here, since V2's `losses` entries
 * arrive as a JSON string no schema has seen; ranges and lengths are the core's (planLoss), named
 * through the caller's Namer.
 */
import { invalid } from '../errors.js'
import {
  ASYMMETRIC_DEFAULTS, classBalancedFocal, crossEntropyOptionsOf, DEFAULTS, focalOptionsOf, LDAM_DEFAULTS, LOGIT_ADJUSTED_DEFAULTS,
  POLY_DEFAULTS, SEESAW_DEFAULTS,
  type Activation, type CommonOptions, type LossKind, type LossSpec, type Namer, type Reduction
} from '../losses/index.js'
import type { NamedLoss } from './types.js'

export const LOSS_KINDS: readonly LossKind[] = ['ce', 'focal', 'poly', 'logit_adjusted', 'ldam', 'asymmetric', 'seesaw']

/** The options each loss takes besides the shared ones (activation, reduction, ignoreIndex). */
export const LOSS_OPTIONS: Readonly<Record<LossKind, readonly string[]>> = {
  ce: ['labelSmoothing', 'weight', 'posWeight'],
  focal: ['labelSmoothing', 'gamma', 'alpha'],
  poly: ['base', 'epsilon', 'labelSmoothing', 'weight', 'posWeight', 'gamma', 'alpha'],
  logit_adjusted: ['classCounts', 'tau', 'labelSmoothing', 'weight'],
  ldam: ['classCounts', 'maxMargin', 'scale', 'weight'],
  asymmetric: ['gammaPos', 'gammaNeg', 'clip', 'eps', 'labelSmoothing'],
  seesaw: ['classCounts', 'p', 'q', 'eps']
}

/** Options of one Poly-1 base only: the other base has no such option. */
const POLY_BASE_ONLY: Readonly<Record<string, 'ce' | 'focal'>> = { weight: 'ce', posWeight: 'ce', gamma: 'focal', alpha: 'focal' }

/** Losses class-balanced weights (classBalance) apply to: those with a per-class weight. */
const BALANCED: ReadonlySet<LossKind> = new Set(['ce', 'focal', 'poly', 'logit_adjusted', 'ldam'])

/** Reply keys a comparison uses itself, or that other parts of the API give a meaning to. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['perClass', 'classWeights', 'metrics', 'run'])

/** What every loss of a request shares; `reduction` undefined means each loss's own default. */
export interface Shared {
  readonly activation: Activation | undefined
  readonly reduction: Reduction | undefined
  readonly ignoreIndex: number
  /** Class-balanced weights, already computed from the request's counts. */
  readonly balanced: Float32Array | undefined
}

export type Fields = Readonly<Record<string, unknown>>

export function defaultActivation (kind: LossKind): Activation {
  return kind === 'asymmetric' ? 'sigmoid' : DEFAULTS.activation
}

export function defaultReduction (kind: LossKind): Reduction {
  return kind === 'asymmetric' ? ASYMMETRIC_DEFAULTS.reduction : DEFAULTS.reduction
}

/** A value as a message shows it: numbers as JS prints them (JSON would print Infinity as null). */
const shown = (v: unknown): string => typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v)

function numberOf (fields: Fields, key: string, fallback: number, name: Namer): number {
  const v = fields[key]
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isFinite(v)) return invalid(`${name(key)} = ${shown(v)} must be a finite number`)
  return v
}

function vectorOf (fields: Fields, key: string, name: Namer): Float32Array | undefined {
  const v = fields[key]
  if (v === undefined || v instanceof Float32Array) return v
  if (!Array.isArray(v) || v.length === 0) return invalid(`${name(key)} must be a non-empty array of numbers`)
  const out = new Float32Array(v.length)
  v.forEach((x: unknown, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) invalid(`${name(key)}[${i}] = ${shown(x)} must be a finite number`)
    out[i] = x
  })
  return out
}

function alphaOf (fields: Fields, name: Namer): number | Float32Array | null {
  const v = fields.alpha
  if (v === null) return null
  if (v === undefined) return POLY_DEFAULTS.alpha
  if (typeof v === 'number' && !(v >= 0 && v <= 1)) invalid(`${name('alpha')} = ${v} is outside [0, 1]`)
  return typeof v === 'number' ? v : vectorOf(fields, 'alpha', name) ?? null
}

/** Refuses the fields `kind` does not take, and a Poly-1 base's options given to the other base. */
export function checkForeign (kind: LossKind, fields: Fields, name: Namer, skip: ReadonlySet<string>): void {
  const own = LOSS_OPTIONS[kind]
  const base = fields.base ?? POLY_DEFAULTS.base
  for (const key of Object.keys(fields)) {
    if (skip.has(key) || fields[key] === undefined) continue
    if (!own.includes(key)) invalid(`${name(key)} is not an option of ${kind}; it takes ${own.join(', ')}`)
    const only = POLY_BASE_ONLY[key]
    if (kind === 'poly' && only !== undefined && only !== base) invalid(`${name(key)} is not an option of poly with base ${JSON.stringify(base)}; it is one of base "${only}"`)
  }
}

/**
 * One loss's spec from its option values; class-balanced weights replace `weight` (and `alpha` for a
 * focal base), and giving both is an error naming both fields.
 */
export function lossSpec (kind: LossKind, fields: Fields, shared: Shared, name: Namer): LossSpec {
  const { balanced } = shared
  if (balanced !== undefined) {
    if (!BALANCED.has(kind)) invalid(`${name('classBalance')} does not apply to ${kind}, which takes no per-class weight`)
    for (const key of ['weight', 'alpha']) {
      if (fields[key] !== undefined) invalid(`${name('classBalance')} and ${name(key)} are mutually exclusive: ${name('classBalance')} computes the ${key === 'weight' ? 'weights' : 'per-class alpha'}`)
    }
  }
  const common: CommonOptions = {
    activation: shared.activation ?? defaultActivation(kind),
    reduction: shared.reduction ?? defaultReduction(kind),
    ignoreIndex: shared.ignoreIndex,
    labelSmoothing: numberOf(fields, 'labelSmoothing', DEFAULTS.labelSmoothing, name)
  }
  const weight = (): Float32Array | undefined => balanced ?? vectorOf(fields, 'weight', name)
  const classCounts = (): Float32Array | undefined => vectorOf(fields, 'classCounts', name)
  switch (kind) {
    case 'ce':
      return { kind, options: crossEntropyOptionsOf(common, weight(), vectorOf(fields, 'posWeight', name)), name }
    case 'focal': {
      const gamma = numberOf(fields, 'gamma', DEFAULTS.gamma, name)
      return { kind, options: balanced !== undefined ? classBalancedFocal(common, gamma, balanced) : focalOptionsOf(common, gamma, alphaOf(fields, name)), name }
    }
    case 'poly': {
      const base = fields.base ?? POLY_DEFAULTS.base
      if (base !== 'ce' && base !== 'focal') return invalid(`${name('base')} = ${shown(base)} must be "ce" or "focal"`)
      const gamma = numberOf(fields, 'gamma', POLY_DEFAULTS.gamma, name)
      const focal = base === 'focal' && balanced !== undefined ? classBalancedFocal(common, gamma, balanced) : undefined
      return {
        kind,
        name,
        options: {
          activation: common.activation,
          reduction: common.reduction,
          ignoreIndex: common.ignoreIndex,
          labelSmoothing: common.labelSmoothing,
          base,
          epsilon: numberOf(fields, 'epsilon', POLY_DEFAULTS.epsilon, name),
          gamma,
          alpha: focal === undefined ? alphaOf(fields, name) : focal.alpha,
          weight: base === 'ce' ? weight() : focal?.weight,
          posWeight: vectorOf(fields, 'posWeight', name)
        }
      }
    }
    case 'logit_adjusted':
      return { kind, name, options: { ...common, classCounts: classCounts(), tau: numberOf(fields, 'tau', LOGIT_ADJUSTED_DEFAULTS.tau, name), weight: weight() } }
    case 'ldam':
      return {
        kind,
        name,
        options: {
          ...common,
          classCounts: classCounts(),
          maxMargin: numberOf(fields, 'maxMargin', LDAM_DEFAULTS.maxMargin, name),
          scale: numberOf(fields, 'scale', LDAM_DEFAULTS.scale, name),
          weight: weight()
        }
      }
    case 'asymmetric':
      return {
        kind,
        name,
        options: {
          ...common,
          gammaPos: numberOf(fields, 'gammaPos', ASYMMETRIC_DEFAULTS.gammaPos, name),
          gammaNeg: numberOf(fields, 'gammaNeg', ASYMMETRIC_DEFAULTS.gammaNeg, name),
          clip: numberOf(fields, 'clip', ASYMMETRIC_DEFAULTS.clip, name),
          eps: numberOf(fields, 'eps', ASYMMETRIC_DEFAULTS.eps, name)
        }
      }
    case 'seesaw':
      return {
        kind,
        name,
        options: {
          ...common,
          classCounts: classCounts(),
          p: numberOf(fields, 'p', SEESAW_DEFAULTS.p, name),
          q: numberOf(fields, 'q', SEESAW_DEFAULTS.q, name),
          eps: numberOf(fields, 'eps', SEESAW_DEFAULTS.eps, name)
        }
      }
  }
}

function isKind (v: unknown): v is LossKind {
  return typeof v === 'string' && (LOSS_KINDS as readonly string[]).includes(v)
}

const ENTRY_KEYS: ReadonlySet<string> = new Set(['loss', 'name'])

/**
 * A comparison's `losses` entries as named losses, in order: each entry's kind, name (its kind by
 * default; unique, not a reserved reply key) and options. `list` names the list in messages and
 * `entryName(i)` spells entry i's fields.
 */
export function namedLosses (entries: readonly Fields[], shared: Shared, list: string, entryName: (i: number) => Namer): NamedLoss[] {
  if (entries.length === 0) invalid(`${list} must list at least one loss`)
  const seen = new Map<string, number>()
  return entries.map((entry, i): NamedLoss => {
    const name = entryName(i)
    const kind = entry.loss
    if (!isKind(kind)) return invalid(`${name('loss')} = ${shown(kind)} must be one of ${LOSS_KINDS.map((k) => `"${k}"`).join(', ')}`)
    const label = entry.name ?? kind
    if (typeof label !== 'string' || !/^[A-Za-z][\w-]{0,63}$/.test(label)) {
      invalid(`${name('name')} = ${shown(label)} must be a letter then up to 63 letters, digits, _ or -`)
    }
    if (RESERVED_NAMES.has(label)) invalid(`${name('name')} = "${label}" is reserved (${[...RESERVED_NAMES].join(', ')}); name the loss otherwise`)
    const before = seen.get(label)
    if (before !== undefined) invalid(`${name('name')} = "${label}" is also the name of ${list}[${before}]; names must be unique (set "name")`)
    seen.set(label, i)
    checkForeign(kind, entry, name, ENTRY_KEYS)
    return { label, ...lossSpec(kind, entry, shared, name) }
  })
}
