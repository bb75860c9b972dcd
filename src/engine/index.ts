/**
 * The compute engine: owns the tfjs backend and the batcher. Routes hand it plans; it answers
 * 503 until the backend is up.
 */
import * as tf from '@tensorflow/tfjs-core'
import { UnavailableError } from '../errors.js'
import type { Plan } from '../losses/index.js'
import { chooseBackend, type BackendAttempt, type BackendName, type BackendPreference } from './backend.js'
import { Batcher, type BatcherOptions } from './batcher.js'

export interface EngineOptions extends BatcherOptions {
  readonly backend: BackendPreference
}

/** Told of every plan scored: its kernel and the seconds it took, queueing for the batch included. */
export type ScoreObserver = (kernel: string, seconds: number) => void

export class Engine {
  private chosen: BackendName | undefined
  private readonly observers: ScoreObserver[] = []
  private failures: readonly BackendAttempt[] = []
  private readonly batcher: Batcher

  constructor (private readonly options: EngineOptions) {
    this.batcher = new Batcher(options)
  }

  get ready (): boolean {
    return this.chosen !== undefined
  }

  get backend (): BackendName | undefined {
    return this.chosen
  }

  get failedBackends (): readonly BackendAttempt[] {
    return this.failures
  }

  get batchStats (): Readonly<{ calls: number, plans: number }> {
    return this.batcher.stats
  }

  async init (): Promise<BackendName> {
    const { backend, failed } = await chooseBackend(this.options.backend)
    this.failures = failed
    this.chosen = backend
    return backend
  }

  observe (observer: ScoreObserver): void {
    this.observers.push(observer)
  }

  /** Queues a plan for the next batch. */
  async score<T> (plan: Plan<T>): Promise<T> {
    if (!this.ready) throw new UnavailableError('the tfjs backend is still starting')
    if (this.observers.length === 0) return await this.batcher.submit(plan)
    const start = process.hrtime.bigint()
    try {
      return await this.batcher.submit(plan)
    } finally {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9
      for (const observer of this.observers) observer(plan.call.kind, seconds)
    }
  }

  memory (): { numTensors: number, numBytes: number } {
    const { numTensors, numBytes } = tf.memory()
    return { numTensors, numBytes }
  }
}
