/**
 * Preloaded into the service by the bench's memory phase only (`node --expose-gc --require`): a full
 * garbage collection on SIGUSR2, so that memory readings compare what is retained rather than where
 * each one falls on the GC sawtooth. The service's own code has no such hook.
 */
'use strict'
process.on('SIGUSR2', () => { globalThis.gc?.() })
