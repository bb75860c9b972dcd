/**
 * Dynamic batching (what Triton calls it): plans that arrive while the event loop is busy are
 * grouped by kernel signature and run as one tfjs call, then split. Per-row values do not depend on
 * the other rows, so results are identical to running each plan alone; what is saved is the fixed
 * cost of every tfjs op (~10 us on wasm), paid once per group instead of once per request.
 */
import { compatible, execute, merge, signature, split } from '../losses/kernels.js'
import type { Plan } from '../losses/index.js'

interface Pending {
  readonly plan: Plan<unknown>
  readonly resolve: (value: unknown) => void
  readonly reject: (reason: unknown) => void
}

export interface BatcherOptions {
  /** Largest number of rows merged into one call. */
  readonly maxRows: number
  /** Extra wait for more requests, in microseconds; 0 flushes on the next turn of the event loop. */
  readonly waitMicros: number
}

/**
 * Calls this large run alone: their op overhead is already negligible, and merging would only copy
 * megabytes of logits into one buffer.
 */
const MERGE_MAX_ELEMENTS = 1 << 16

export interface BatcherStats {
  calls: number
  plans: number
}

export class Batcher {
  private pending: Pending[] = []
  private scheduled = false
  readonly stats: BatcherStats = { calls: 0, plans: 0 }

  constructor (private readonly options: BatcherOptions) {}

  submit<T> (plan: Plan<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ plan, resolve: resolve as (value: unknown) => void, reject })
      if (this.scheduled) return
      this.scheduled = true
      // setImmediate runs after the poll phase, so every request already read in this turn joins.
      if (this.options.waitMicros > 0) setTimeout(() => this.flush(), this.options.waitMicros / 1000)
      else setImmediate(() => this.flush())
    })
  }

  /** Runs everything pending now, grouped. */
  flush (): void {
    const batch = this.pending
    this.pending = []
    this.scheduled = false
    for (const group of this.group(batch)) this.runGroup(group)
  }

  private group (batch: readonly Pending[]): Pending[][] {
    const groups = new Map<string, Pending[][]>()
    const out: Pending[][] = []
    for (const p of batch) {
      if (p.plan.call.rows * p.plan.call.classes > MERGE_MAX_ELEMENTS) {
        out.push([p])
        continue
      }
      const key = signature(p.plan.call)
      const candidates = groups.get(key) ?? []
      let home = candidates.find((g) => {
        const first = g[0]
        return first !== undefined && compatible(first.plan.call, p.plan.call) &&
          g.reduce((n, q) => n + q.plan.call.rows, 0) + p.plan.call.rows <= this.options.maxRows
      })
      if (home === undefined) {
        home = []
        candidates.push(home)
        groups.set(key, candidates)
        out.push(home)
      }
      home.push(p)
    }
    return out
  }

  private runGroup (group: readonly Pending[]): void {
    const calls = group.map((p) => p.plan.call)
    let outputs: Float32Array[][]
    try {
      outputs = split(calls, execute(merge(calls)))
    } catch (err) {
      for (const p of group) p.reject(err)
      return
    }
    this.stats.calls++
    this.stats.plans += group.length
    group.forEach((p, i) => {
      try {
        p.resolve(p.plan.finish(outputs[i] ?? []))
      } catch (err) {
        p.reject(err)
      }
    })
  }
}
