/**
 * The Node entry: the same API running inline (no worker), the wasm read from the package's
 * files, models loadable from file paths and `file:` URLs, profiles in memory.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Hearth as CoreHearth, type Platform } from './core.js';
import { Engine, defaultWasmUrl } from './engine.js';
import { MemoryProfileStore } from './profile-store.js';
import { HearthError } from './errors.js';
import type { HearthOptions } from './types.js';

const nodePlatform: Platform = {
  defaultWorker: false,
  async inlineEngine() {
    // inline: a wasm trap rebuilds the instance (recover)
    return new Engine((build) => readFile(fileURLToPath(defaultWasmUrl(build))), true);
  },
  readLocal(source: string) {
    if (/^(https?|data|blob):/i.test(source)) return undefined;
    const file = source.startsWith('file:') ? fileURLToPath(source) : source;
    return readFile(file).then(
      (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer,
      (e: NodeJS.ErrnoException) => {
        throw new HearthError('NETWORK', `cannot read '${file}': ${e.code === 'ENOENT' ? 'no such file' : e.message}`, { cause: e });
      },
    );
  },
  async profileStore(name: string, kind: 'profile' | 'learner' = 'profile') {
    return new MemoryProfileStore(name, kind);
  },
};

/**
 * The entry point in Node: like the browser's, but always inline (`worker: false`).
 *
 * @example
 * ```ts
 * import { Hearth } from 'hearth-ml';
 * const hearth = await Hearth.init();
 * const model = await hearth.loadModel('models/propensity.onnx');   // a path, file: URL, http(s) URL or bytes
 * ```
 */
export class Hearth extends CoreHearth {
  static override async init(options?: HearthOptions): Promise<Hearth> {
    return (await this.initWith(nodePlatform, options)) as Hearth;
  }
}

export { Model, Recommender, Profile } from './core.js';
export { Tracer, Learner } from './tracer.js';
export type * from './tracer-types.js';
export { HearthError, type HearthErrorCode } from './errors.js';
export { CACHE_NAME, sri } from './fetch.js';
export type * from './types.js';
