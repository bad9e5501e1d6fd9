/**
 * The browser platform: a module worker next to this file, an inline engine on demand (so the
 * wasm glue is not loaded on the page when the worker runs it), IndexedDB profiles.
 * Not part of the public API.
 * @packageDocumentation
 */
import type { Platform } from './core.js';
import { IdbProfileStore, MemoryProfileStore } from './profile-store.js';

export const browserPlatform: Platform = {
  defaultWorker: typeof Worker !== 'undefined',
  startWorker:
    typeof Worker !== 'undefined'
      ? () => new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'hearth-ml' })
      : undefined,
  async inlineEngine() {
    const { Engine } = await import('./engine.js');
    // inline: a wasm trap rebuilds the instance (recover); the worker is replaced instead
    return new Engine(undefined, true);
  },
  async profileStore(name: string, kind: 'profile' | 'learner' = 'profile') {
    return typeof indexedDB !== 'undefined' ? new IdbProfileStore(name, kind) : new MemoryProfileStore(name, kind);
  },
};
