/**
 * tfjs backend choice at start-up: the native TensorFlow binding when it loads, else WebAssembly,
 * else plain JS. `@tensorflow/tfjs-node` is an optional dependency: its install downloads
 * libtensorflow, which fails without network access, and npm then leaves it out.
 */
import * as tf from '@tensorflow/tfjs-core'

export type BackendName = 'tensorflow' | 'wasm' | 'cpu'
export type BackendPreference = BackendName | 'auto'

export interface BackendAttempt {
  readonly backend: BackendName
  readonly error: string
}

export interface BackendChoice {
  readonly backend: BackendName
  /** Backends tried before the one chosen, with why each failed. */
  readonly failed: readonly BackendAttempt[]
}

// A variable specifier, so that TypeScript does not need the optional package's types to build.
const TFJS_NODE = '@tensorflow/tfjs-node'

const loaders: Record<BackendName, () => Promise<unknown>> = {
  tensorflow: async () => await import(TFJS_NODE),
  wasm: async () => await import('@tensorflow/tfjs-backend-wasm'),
  cpu: async () => await import('@tensorflow/tfjs-backend-cpu')
}

const ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu']

/** Loads and activates one backend; throws when it cannot be used. */
export async function activate (backend: BackendName): Promise<void> {
  await loaders[backend]()
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs could not initialise the ${backend} backend`)
  await tf.ready()
}

export async function chooseBackend (preference: BackendPreference): Promise<BackendChoice> {
  tf.enableProdMode()
  const candidates = preference === 'auto' ? ORDER : [preference]
  const failed: BackendAttempt[] = []
  for (const backend of candidates) {
    try {
      await activate(backend)
      return { backend, failed }
    } catch (err) {
      failed.push({ backend, error: err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err) })
    }
  }
  throw new Error(`no tfjs backend could be started: ${failed.map((f) => `${f.backend}: ${f.error}`).join('; ')}`)
}

/** The backends this installation can run, for tests that run every numeric case on each. */
export async function installedBackends (): Promise<BackendName[]> {
  const found: BackendName[] = []
  for (const backend of ORDER) {
    try {
      await loaders[backend]()
      if (tf.findBackendFactory(backend) !== null) found.push(backend)
    } catch {}
  }
  return found
}
