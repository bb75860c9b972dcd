/**
 * The load scenarios: what is sent where, over how many connections, and which target applies.
 */
import { jsonBody, sigmoidBatch, softmaxBatch, v2BinaryBody } from '../scripts/lib/bodies.js'

export type Target =
  | { readonly kind: 'floor', readonly ratio: number }
  /** rps at least `ratio` times the floor's rps on the JSON scenario `of` (the same batch as JSON). */
  | { readonly kind: 'json-floor', readonly of: string, readonly ratio: number }
  /** rps at least `ratio` times the service's own rps on scenario `of`, measured in alternating rounds. */
  | { readonly kind: 'service', readonly of: string, readonly ratio: number }
  /** p50 latency at most `ratio` times the service's p50 on scenario `of`, with this scenario's connections. */
  | { readonly kind: 'latency', readonly of: string, readonly ratio: number }

/** A scenario on an evaluation run: the store the service runs on and the run it needs first. */
export interface RunSetup {
  readonly store: 'sqlite' | 'postgres'
  readonly classes: number
  readonly hardest: number
  /** Batches of one row PUT before the measurement: a run's size is its statistics, not its batch count. */
  readonly prefill: number
}

export interface Request {
  /** In run scenarios, `{run}` in the path is the run's id and `{batch}` a batch number new on every request. */
  readonly method: 'POST' | 'PUT' | 'GET'
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: Buffer
}

export interface Scenario {
  readonly id: string
  readonly title: string
  readonly connections: number
  readonly target: Target | undefined
  /** Served by the V2 route, which may not exist yet. */
  readonly v2: boolean
  /** The distinct requests each connection cycles through. */
  readonly requests: readonly Request[]
  /** Run scenarios are measured against the service's own scenario `target.of`, not the floor (bench/runs.ts). */
  readonly run?: RunSetup
}

interface Definition extends Omit<Scenario, 'requests'> {
  readonly rows: number
  readonly classes: number
  request (seed: number): Request
}

const JSON_HEADERS = { 'content-type': 'application/json' }
const FLOOR = { kind: 'floor', ratio: 0.85 } as const

const json = (path: string, body: Buffer): Request => ({ method: 'POST', path, headers: JSON_HEADERS, body })

function jsonDefinition (id: string, title: string, connections: number, target: Target | undefined, path: string,
  activation: 'softmax' | 'sigmoid', rows: number, classes: number, options: Record<string, unknown> = {}): Definition {
  const batch = activation === 'softmax' ? softmaxBatch : sigmoidBatch
  return { id, title, connections, target, v2: false, rows, classes, request: (seed) => json(path, jsonBody(batch(seed, rows, classes), activation, options)) }
}

/** Long-tailed training counts, 1000 down to 1 over the classes: what LDAM and logit adjustment need. */
export function longTailCounts (classes: number): number[] {
  return Array.from({ length: classes }, (_, c) => Math.max(1, Math.round(1000 * 0.001 ** (c / Math.max(1, classes - 1)))))
}

/** The five-loss comparison of issue 10: the losses sharing a log-softmax share one pass. */
export function fiveLosses (classes: number): Array<Record<string, unknown>> {
  const classCounts = longTailCounts(classes)
  return [{ loss: 'ce' }, { loss: 'focal', gamma: 2 }, { loss: 'poly', epsilon: 1 }, { loss: 'ldam', classCounts }, { loss: 'logit_adjusted', classCounts }]
}

// Issue 11: the metrics cost at most 1.3x the same request without them (rps >= 1 / 1.3 of it).
const METRICS_COST = { kind: 'service', of: 'compare-1024x400', ratio: 1 / 1.3 } as const
const RUN_PUT = (store: RunSetup['store']): Definition => ({
  id: `run-put-64x400-${store}`,
  title: `PUT 64x400 into a run, ${store}`,
  connections: 8,
  target: { kind: 'service', of: 'compare-64x400', ratio: 0.8 },
  v2: false,
  rows: 64,
  classes: 400,
  run: { store, classes: 400, hardest: 10, prefill: 0 },
  // The bodies of compare-64x400, seed for seed.
  request: (seed) => ({ method: 'PUT', path: '/runs/{run}/batches/b{batch}', headers: JSON_HEADERS, body: jsonBody(softmaxBatch(seed, 64, 400), 'softmax') })
})

const RUN_GET = (store: RunSetup['store']): Definition => ({
  id: `run-get-10000x400-${store}`,
  title: `GET a run of 10,000 batches, C=400, ${store}`,
  connections: 1,
  target: { kind: 'latency', of: 'compare-64x400', ratio: 1.5 },
  v2: false,
  rows: 0,
  classes: 400,
  run: { store, classes: 400, hardest: 10, prefill: 10_000 },
  request: () => ({ method: 'GET', path: '/runs/{run}', headers: {}, body: Buffer.alloc(0) })
})

const DEFINITIONS: readonly Definition[] = [
  jsonDefinition('focal-64x10', 'focal softmax 64x10', 16, FLOOR, '/loss/focal', 'softmax', 64, 10),
  jsonDefinition('ce-64x10', 'ce softmax 64x10', 16, FLOOR, '/loss/ce', 'softmax', 64, 10),
  jsonDefinition('focal-sigmoid-64x80', 'focal sigmoid 64x80', 4, undefined, '/loss/focal', 'sigmoid', 64, 80),
  jsonDefinition('ce-256x400', 'ce softmax 256x400', 4, FLOOR, '/loss/ce', 'softmax', 256, 400),
  jsonDefinition('focal-1024x400', 'focal softmax 1024x400', 4, FLOOR, '/loss/focal', 'softmax', 1024, 400),
  jsonDefinition('compare5-1024x400', 'compare ce, focal, poly, ldam, logit_adjusted 1024x400', 4, undefined, '/loss/compare', 'softmax', 1024, 400,
    { losses: fiveLosses(400) }),
  jsonDefinition('ce-64x10-metrics', 'ce softmax 64x10 metrics', 16, FLOOR, '/loss/ce', 'softmax', 64, 10, { metrics: true }),
  jsonDefinition('compare-1024x400', 'compare softmax 1024x400', 4, undefined, '/loss/compare', 'softmax', 1024, 400),
  jsonDefinition('compare-1024x400-metrics', 'compare softmax 1024x400 metrics', 4, METRICS_COST, '/loss/compare', 'softmax', 1024, 400, { metrics: true }),
  jsonDefinition('compare-64x400', 'compare softmax 64x400', 8, undefined, '/loss/compare', 'softmax', 64, 400),
  RUN_PUT('sqlite'),
  RUN_PUT('postgres'),
  RUN_GET('sqlite'),
  RUN_GET('postgres'),
  {
    id: 'v2-focal-1024x400',
    title: 'focal 1024x400 V2 binary FP32',
    connections: 4,
    target: { kind: 'json-floor', of: 'focal-1024x400', ratio: 6 },
    v2: true,
    rows: 1024,
    classes: 400,
    request: (seed) => {
      const { body, headerLength } = v2BinaryBody(softmaxBatch(seed, 1024, 400))
      return {
        method: 'POST',
        path: '/v2/models/focal/infer',
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
        body
      }
    }
  }
]

export const SCENARIO_IDS: readonly string[] = DEFINITIONS.map((d) => d.id)

/** Distinct bodies per scenario: eight, fewer when each is megabytes (autocannon keeps a copy per connection). */
function variants (rows: number, classes: number): number {
  if (rows === 0) return 1
  return Math.max(2, Math.min(8, Math.round(2_000_000 / (rows * classes * 20))))
}

/** Builds the selected scenarios' bodies, seeded: the same bytes on every run, for both servers. */
export function scenarios (ids: readonly string[] = SCENARIO_IDS): Scenario[] {
  const unknown = ids.filter((id) => !SCENARIO_IDS.includes(id))
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIO_IDS.join(', ')}`)
  return DEFINITIONS.filter((d) => ids.includes(d.id)).map(({ rows, classes, request, ...rest }) => ({
    ...rest,
    requests: Array.from({ length: variants(rows, classes) }, (_, k) => request(1000 + k))
  }))
}
