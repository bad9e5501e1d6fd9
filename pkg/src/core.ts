/**
 * The public classes: {@link Hearth} (the entry), {@link Model}, {@link Recommender} and
 * {@link Profile}. They validate arguments on the calling thread, fetch and cache bytes, keep the
 * profile store, and send everything else to the engine through a transport (worker or inline).
 * @packageDocumentation
 */
import { HearthError } from './errors.js';
import { checkLoadOptions, clearCache, loadWith, absolute, type LocalReader } from './fetch.js';
import { LiveSync } from './live-sync.js';
import { compactEvents, PACK_AT, storeName, type FoldIn, type ProfileStore, type StoredEvent } from './profile-store.js';
import { InlineTransport, WorkerTransport, type Transport } from './transport.js';
import type { Engine, InitReply, Placement } from './engine.js';
import { browserPlatform } from './platform-browser.js';
import { Tracer } from './tracer.js';
import type { Question, TracerInfo, TracerLoadOptions } from './tracer-types.js';
import type {
  BackendName, DType, Feed, FeatureRow, FeatureSpec, HearthOptions, MapValue, ModelLoadOptions, OutputTensor, TabularPrediction,
  InteractionEvent, IoInfo, Item, LoadOptions, Recommendation, RecommenderInfo, RecommenderLoadOptions, RecommendOptions,
  RunOptions, RunOutput, SimilarItem, SimilarOptions, Tensor, TensorData,
} from './types.js';

/** What differs between the browser and Node entries (not part of the public API). */
export interface Platform {
  /** A new module worker running dist/worker.js; undefined where there are no workers. */
  startWorker?: () => Worker;
  /** An engine for the calling thread. */
  inlineEngine(): Promise<Engine>;
  /** Reads URLs that are not fetched (Node: files); undefined to fetch. */
  readLocal?: LocalReader;
  /**
   * The store for a recommender's profile (`kind` `'profile'`, the default) or for a tracer's
   * learner (`'learner'`; `name` is `<tracer name>:<learner id>`).
   */
  profileStore(name: string, kind?: 'profile' | 'learner'): Promise<ProfileStore>;
  defaultWorker: boolean;
}

/** Calls a private constructor from the package's own code. */
function make<T>(cls: unknown, ...args: unknown[]): T {
  return new (cls as new (...a: unknown[]) => T)(...args);
}

const BACKENDS: readonly BackendName[] = ['auto', 'cpu', 'webgpu'];

/**
 * The entry point: starts the engine (in a worker by default) and loads models and recommenders.
 *
 * @example
 * ```ts
 * import { Hearth } from 'hearth-ml';
 * const hearth = await Hearth.init();
 * const model = await hearth.loadModel('/models/propensity.onnx');
 * const out = await model.run({ features: { data: Float32Array.from(x), dims: [1, 17] } });
 * console.log(out.purchase_probability.data);
 * ```
 */
export class Hearth {
  /** Use {@link Hearth.init}. */
  protected constructor(
    /** @internal */ readonly transport: Transport,
    /** @internal */ readonly platform: Platform,
    /** Whether calls run in a Web Worker. */
    readonly worker: boolean,
    /**
     * The backend the engine started: `'webgpu'` when WebGPU gave an adapter (for `'auto'`, a
     * hardware one) and the CPU + WebGPU wasm loaded (models and recommenders are then created on the GPU, or, with
     * `backend: 'auto'`, on whichever a timed probe finds faster: see their own `backend`),
     * `'cpu'` otherwise (WebAssembly SIMD128).
     */
    readonly backend: 'cpu' | 'webgpu',
    /**
     * Why `'auto'` started on the CPU (no `navigator.gpu`, no adapter, or only a software
     * fallback adapter such as SwiftShader); undefined otherwise.
     */
    readonly backendReason: string | undefined,
    /** The WebGPU adapter (vendor, architecture, description), when there is one. */
    readonly adapter: string | undefined,
  ) {}

  private disposed = false;

  /**
   * Starts Hearth (in the worker, or here with `worker: false`): with `backend: 'auto'` (the
   * default) or `'webgpu'` it asks `navigator.gpu` for an adapter and, when there is one (for
   * `'auto'`, a hardware one: not a software fallback such as SwiftShader), loads the CPU +
   * WebGPU wasm; otherwise, or with `'cpu'`, the smaller CPU-only wasm.
   *
   * @param options - see {@link HearthOptions}; every field is optional.
   * @throws `HearthError` `BACKEND_UNAVAILABLE` for `backend: 'webgpu'` when this browser gives no
   *   WebGPU adapter (Node has none), or when the wasm cannot start; `RangeError` for an unknown
   *   backend.
   * @example
   * ```ts
   * const hearth = await Hearth.init({ backend: 'auto' });
   * ```
   */
  static async init(options?: HearthOptions): Promise<Hearth> {
    return this.initWith(browserPlatform, options);
  }

  /** @internal */
  static async initWith(platform: Platform, options: HearthOptions = {}): Promise<Hearth> {
    if (options === null || typeof options !== 'object') throw new TypeError('Hearth.init: options must be an object');
    const backend = options.backend ?? 'auto';
    if (!BACKENDS.includes(backend)) {
      throw new RangeError(`Hearth.init: options.backend must be 'auto', 'cpu' or 'webgpu', got '${String(backend)}'`);
    }
    if (options.worker !== undefined && typeof options.worker !== 'boolean') {
      throw new TypeError('Hearth.init: options.worker must be a boolean');
    }
    const worker = options.worker ?? platform.defaultWorker;
    if (worker && !platform.startWorker) {
      throw new RangeError('Hearth.init: options.worker: true needs Web Workers; in Node, Hearth runs inline (worker: false)');
    }
    const transport: Transport = worker
      ? new WorkerTransport(platform.startWorker!)
      : new InlineTransport(await platform.inlineEngine());
    let r: InitReply;
    try {
      r = await transport.call<InitReply>('init', { backend });
    } catch (e) {
      transport.close();
      throw e;
    }
    return new (this as unknown as new (...a: unknown[]) => Hearth)(transport, platform, worker, r.backend, r.reason, r.adapter);
  }

  /** @internal */
  call<R>(op: string, args: unknown, transfer?: Transferable[], generation?: number): Promise<R> {
    if (this.disposed) return Promise.reject(new HearthError('DISPOSED', 'this Hearth instance was disposed'));
    return this.transport.call<R>(op, args, transfer, generation);
  }

  /**
   * Loads an ONNX model from a URL (fetched once, then served from the Cache API) or from its bytes.
   * Only bytes the engine parsed (and that match `integrity`, when given) are cached; a cached
   * copy that no longer parses is evicted and downloaded again once, and an error that remains
   * says where the failing bytes came from.
   *
   * @param source - the model's URL (relative to the page) or its bytes; bytes are copied, never detached.
   * @param options - download options, see {@link LoadOptions}.
   * @throws `HearthError` `MODEL_INVALID`, `UNSUPPORTED`, `INTEGRITY`, `NETWORK` (also for a file
   *   Node cannot read); `TypeError` for a bad argument.
   * @example
   * ```ts
   * const model = await hearth.loadModel('/models/propensity.onnx', { onProgress: (l, t) => console.log(l, t) });
   * ```
   */
  async loadModel(source: string | URL | ArrayBuffer | ArrayBufferView, options?: ModelLoadOptions): Promise<Model> {
    const o = checkLoadOptions(options, 'loadModel') as ModelLoadOptions;
    let featureSpec: string | undefined;
    if (o.featureSpec !== undefined) {
      if (typeof o.featureSpec === 'string') featureSpec = o.featureSpec;
      else if (o.featureSpec !== null && typeof o.featureSpec === 'object') featureSpec = JSON.stringify(o.featureSpec);
      else throw new TypeError('loadModel: options.featureSpec must be a feature spec object or its JSON text');
    }
    // the engine parses the bytes before they are cached
    return loadWith(source, o, 'loadModel', this.platform.readLocal, async (bytes) => {
      const gen = this.transport.generation;
      const r = await this.call<{ handle: number; inputs: IoInfo[]; outputs: IoInfo[] } & Placement>(
        'loadModel', { bytes, featureSpec }, this.worker ? [bytes] : []);
      return make<Model>(Model, this, r.handle, gen, r.inputs, r.outputs, r);
    });
  }

  /**
   * Loads a recommendation bundle (`.hearth`) from a URL (cached like models) or its bytes.
   *
   * @param source - the bundle's URL or its bytes.
   * @param options - download options and the profile store's `name`, see {@link RecommenderLoadOptions}.
   * @throws `HearthError` `BUNDLE_INVALID` for a bad bundle, `UNSUPPORTED` when the wasm has no recommender.
   * @example
   * ```ts
   * const shop = await hearth.loadRecommender('/models/shop.hearth');
   * ```
   */
  async loadRecommender(source: string | URL | ArrayBuffer | ArrayBufferView, options?: RecommenderLoadOptions): Promise<Recommender> {
    const o = checkLoadOptions(options, 'loadRecommender') as RecommenderLoadOptions;
    if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) {
      throw new TypeError('loadRecommender: options.name must be a non-empty string');
    }
    const name = o.name ?? (typeof source === 'string' || source instanceof URL ? absolute(source) : undefined);
    return loadWith(source, o, 'loadRecommender', this.platform.readLocal, async (bytes) => {
      const gen = this.transport.generation;
      const r = await this.call<{ handle: number; info: RecommenderInfo } & Placement>('loadRecommender', { bytes }, this.worker ? [bytes] : []);
      return make<Recommender>(Recommender, this, r.handle, gen, r.info, name, r);
    });
  }

  /**
   * Loads a learning bundle (`.hearth`, format `hearth.learning`, built by `hearth tracer build`)
   * from a URL (cached like models) or its bytes: questions with topics, skills and levels, and
   * fitted IRT / Elo / BKT parameters. Validated on load.
   *
   * @param source - the bundle's URL or its bytes.
   * @param options - download options and the learner stores' `name`, see {@link TracerLoadOptions}.
   * @throws `HearthError` `BUNDLE_INVALID` naming the bad field; `NETWORK`, `INTEGRITY`;
   *   `TypeError` for a bad argument.
   * @example
   * ```ts
   * const tracer = await hearth.loadTracer('/models/mathe.hearth');
   * const learner = await tracer.learner();
   * await learner.observe({ question: '77', correct: true });
   * await learner.next({ k: 5, targetSuccess: 0.7 });
   * ```
   */
  async loadTracer(source: string | URL | ArrayBuffer | ArrayBufferView, options?: TracerLoadOptions): Promise<Tracer> {
    const o = checkLoadOptions(options, 'loadTracer') as TracerLoadOptions;
    if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) {
      throw new TypeError('loadTracer: options.name must be a non-empty string');
    }
    const name = o.name ?? (typeof source === 'string' || source instanceof URL ? absolute(source) : undefined);
    return loadWith(source, o, 'loadTracer', this.platform.readLocal, async (bytes) => {
      const gen = this.transport.generation;
      const r = await this.call<{ handle: number; info: TracerInfo; questions: Question[] }>('loadTracer', { bytes }, this.worker ? [bytes] : []);
      return make<Tracer>(Tracer, this, r.handle, gen, r.info, r.questions, name);
    });
  }

  /**
   * Deletes every model and bundle this package cached (Cache API `hearth-ml-v1`).
   * @returns whether a cache was deleted.
   * @example
   * ```ts
   * await hearth.clearCache();
   * ```
   */
  clearCache(): Promise<boolean> {
    return clearCache();
  }

  /**
   * Stops the worker and frees every model; later calls reject with `DISPOSED`.
   * @example
   * ```ts
   * hearth.dispose();
   * ```
   */
  dispose(): void {
    this.disposed = true;
    this.transport.close();
  }
}

const ARRAY_DTYPES: [new (...a: never[]) => TensorData, DType][] = [
  [Float32Array, 'float32'], [Float64Array, 'float64'], [BigInt64Array, 'int64'], [BigUint64Array, 'uint64'],
  [Int32Array, 'int32'], [Uint32Array, 'uint32'], [Int16Array, 'int16'], [Int8Array, 'int8'], [Uint8Array, 'uint8'],
  [Uint16Array, 'uint16'],
];

/**
 * Whether one output of {@link Model.run} is a tensor (rather than a `ZipMap`'s array of maps,
 * a map, a sequence or an empty optional).
 * @example
 * ```ts
 * const out = await model.run(feeds);
 * if (isTensor(out.label)) console.log(out.label.data);
 * ```
 */
export function isTensor(v: RunOutput | undefined): v is OutputTensor {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'dims' in v && 'data' in v && Array.isArray((v as Tensor).dims);
}

function dtypeOf(name: string, t: Tensor): DType {
  if (Array.isArray(t.data)) {
    const bad = (t.data as readonly unknown[]).findIndex((s) => typeof s !== 'string');
    if (bad >= 0) throw new TypeError(`run: feeds.${name}.data[${bad}] is not a string (an array is a string tensor)`);
    if (t.type !== undefined && t.type !== 'string') throw new TypeError(`run: feeds.${name}.type is '${t.type}' but data is a string[]`);
    return 'string';
  }
  const arr = ARRAY_DTYPES.find(([C]) => t.data instanceof C);
  if (!arr) {
    throw new TypeError(`run: feeds.${name}.data must be a Float32Array, Float64Array, BigInt64Array, BigUint64Array, Int32Array, Uint32Array, Int16Array, Int8Array, Uint8Array, Uint16Array or a string[]`);
  }
  let d = arr[1];
  if (d === 'uint8' && t.type === 'bool') d = 'bool';
  if (d === 'uint16') {
    if (t.type === 'float16' || t.type === 'bfloat16') d = t.type;
    else if (t.type !== 'uint16') {
      throw new TypeError(`run: feeds.${name}: a Uint16Array needs its type: 'uint16', or 'float16' / 'bfloat16' for the bits of those`);
    }
  }
  if (t.type !== undefined && t.type !== d) {
    throw new TypeError(`run: feeds.${name}.type is '${t.type}' but data is a ${t.data.constructor.name} (${d})`);
  }
  return d;
}

/** `INPUT_VALUE` at the first NaN or ±Infinity of a float feed (float16, bfloat16: exponent bits all ones). */
function checkFinite(name: string, t: Tensor, dtype: DType): void {
  let at = -1;
  if (dtype === 'float32' || dtype === 'float64') {
    const d = t.data as Float32Array | Float64Array;
    for (let i = 0; i < d.length; i++) {
      // v - v is 0 for finite v, NaN for NaN and ±Infinity
      if (d[i]! - d[i]! !== 0) {
        at = i;
        break;
      }
    }
  } else if (dtype === 'float16') {
    at = (t.data as Uint16Array).findIndex((b) => (b & 0x7c00) === 0x7c00);
  } else if (dtype === 'bfloat16') {
    at = (t.data as Uint16Array).findIndex((b) => (b & 0x7f80) === 0x7f80);
  }
  if (at < 0) return;
  const v = dtype === 'float16' || dtype === 'bfloat16'
    ? `${dtype} bits 0x${(t.data as Uint16Array)[at]!.toString(16)} (NaN or Infinity)` : (t.data as Float32Array)[at]!;
  const idx: number[] = [];
  let rest = at;
  for (let k = t.dims.length - 1; k >= 0; k--) {
    idx.unshift(rest % t.dims[k]!);
    rest = Math.floor(rest / t.dims[k]!);
  }
  throw new HearthError('INPUT_VALUE',
    `input '${name}': element ${at} ([${idx.join(', ')}]) is ${v}; pass { allowNonFinite: true } to run() to feed NaN or Infinity`);
}

/** A map feed: a plain object whose values are numbers, bigints or strings (the engine checks them against the declared types). */
function checkMap(what: string, m: unknown): void {
  if (m === null || typeof m !== 'object' || Array.isArray(m) || ArrayBuffer.isView(m)) {
    throw new TypeError(`run: ${what} must be a { key: value } object (the input is a map)`);
  }
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'number' && typeof v !== 'bigint' && typeof v !== 'string') {
      throw new TypeError(`run: ${what}['${k}'] must be a number, bigint or string, got ${v === null ? 'null' : typeof v}`);
    }
  }
}

/** Checks feeds against the model's declared inputs, like the engine does, with finer codes. */
function checkFeeds(feeds: Record<string, Feed>, inputs: readonly IoInfo[], allowNonFinite: boolean): void {
  if (feeds === null || typeof feeds !== 'object' || Array.isArray(feeds)) {
    throw new TypeError('run: feeds must be an object mapping input names to { data, dims }');
  }
  const names = inputs.map((i) => i.name);
  const syms = new Map<string, [number, string]>();
  for (const [name, feed] of Object.entries(feeds)) {
    const kind = inputs.find((i) => i.name === name)?.kind;
    if (kind === 'map') {
      checkMap(`feeds.${name}`, feed);
      continue;
    }
    if (kind === 'mapSequence') {
      if (!Array.isArray(feed)) throw new TypeError(`run: feeds.${name} must be an array of { key: value } objects (the input is a sequence of maps)`);
      (feed as readonly MapValue[]).forEach((m, i) => checkMap(`feeds.${name}[${i}]`, m));
      continue;
    }
    const t = feed as Tensor;
    if (t === null || typeof t !== 'object') throw new TypeError(`run: feeds.${name} must be { data, dims }`);
    if (!Array.isArray(t.dims)) throw new TypeError(`run: feeds.${name}.dims must be an array of sizes`);
    for (const d of t.dims) {
      if (typeof d !== 'number') throw new TypeError(`run: feeds.${name}.dims must hold numbers, got ${typeof d}`);
      if (!Number.isInteger(d) || d < 0 || d >= 2 ** 32) throw new RangeError(`run: feeds.${name}.dims must be non-negative integers, got ${d}`);
    }
    const dtype = dtypeOf(name, t);
    const info = inputs.find((i) => i.name === name);
    if (!info) throw new HearthError('INPUT_NAME', `input '${name}': the model has no such input; its inputs are ${JSON.stringify(names)}`);
    const size = t.dims.reduce((a, b) => a * b, 1);
    if (t.data.length !== size) {
      throw new HearthError('INPUT_SHAPE', `input '${name}': dims [${t.dims.join(', ')}] hold ${size} elements but data has ${t.data.length}`);
    }
    const want = `${info.type ?? 'any dtype'}${info.dims ? ` of shape [${info.dims.map((d) => d ?? '?').join(', ')}]` : ''}`;
    if (info.type && info.type !== dtype) {
      throw new HearthError('INPUT_DTYPE', `input '${name}': expected ${want}, got ${dtype}`);
    }
    if (!allowNonFinite) checkFinite(name, t, dtype);
    if (info.dims) {
      if (info.dims.length !== t.dims.length) {
        throw new HearthError('INPUT_SHAPE', `input '${name}': expected ${want} (rank ${info.dims.length}), got shape [${t.dims.join(', ')}]`);
      }
      info.dims.forEach((d, k) => {
        const n = t.dims[k]!;
        if (typeof d === 'number' && d !== n) {
          throw new HearthError('INPUT_SHAPE', `input '${name}': expected ${want}, got shape [${t.dims.join(', ')}] (dim ${k} is ${n}, expected ${d})`);
        }
        if (typeof d === 'string') {
          const seen = syms.get(d);
          if (seen && seen[0] !== n) {
            throw new HearthError('INPUT_SHAPE', `input '${name}': dim ${k} ('${d}') is ${n}, but input '${seen[1]}' gave '${d}' = ${seen[0]}`);
          }
          syms.set(d, [n, name]);
        }
      });
    }
  }
  for (const n of names) {
    if (!(n in feeds)) {
      const i = inputs.find((x) => x.name === n)!;
      throw new HearthError('INPUT_NAME', `input '${n}': missing: the model needs it (${i.type ?? 'any dtype'}${i.dims ? ` of shape [${i.dims.join(', ')}]` : ''})`);
    }
  }
}

/**
 * A loaded ONNX model. Get one from {@link Hearth.loadModel}.
 *
 * @example
 * ```ts
 * const out = await model.run({ [model.inputs[0].name]: { data: new Float32Array(17), dims: [1, 17] } });
 * ```
 */
export class Model {
  private disposed = false;

  /** Made by the package; see the class's doc for how to get one. */
  private constructor(
    private readonly hearth: Hearth,
    private readonly handle: number,
    private readonly generation: number,
    /** The model's inputs: name, dtype, dims (numbers, symbolic names or `null`). */
    readonly inputs: readonly IoInfo[],
    /** The model's outputs. */
    readonly outputs: readonly IoInfo[],
    private place: Placement,
  ) {}

  /**
   * Which backend runs this model: `'webgpu'` or `'cpu'`. On a WebGPU engine, `backend: 'auto'`
   * keeps a model on the GPU only when a timed probe finds it faster there; a lost GPU device
   * moves the model to the CPU (this then says `'cpu'`, and {@link Model.backendReason} why).
   */
  get backend(): 'cpu' | 'webgpu' {
    return this.place.backend;
  }

  /** Why the model runs where it does (the probe's timings, or the device loss); may be undefined. */
  get backendReason(): string | undefined {
    return this.place.backendReason;
  }

  /**
   * Runs the model. Feeds are checked against {@link Model.inputs} first.
   *
   * @param feeds - every input by name, as `{ data, dims }` (`type` only for bool and a
   *   Uint16Array's uint16/float16/bfloat16); a map input (kind `'map'`, e.g. scikit-learn's
   *   `DictVectorizer`) as a plain `{ key: value }` object, a sequence of maps as an array of them.
   * @param options - see {@link RunOptions}.
   * @returns the outputs by name ({@link RunOutput}): a tensor `{ data, dims, type }` for a
   *   tensor output, an array of `{ label: probability }` for a `ZipMap` output (kind
   *   `'mapSequence'`), a map, an array for a sequence, `null` for an empty optional. Name the
   *   types you expect with `run<{ label: OutputTensor; probabilities: MapValue[] }>(…)`, or
   *   narrow with {@link isTensor}.
   * @throws `HearthError` `INPUT_NAME`, `INPUT_DTYPE`, `INPUT_SHAPE`, `INPUT_VALUE` (NaN or
   *   ±Infinity in a float feed, unless `allowNonFinite`), `DISPOSED`, `WORKER_CRASHED`;
   *   `TypeError`/`RangeError` naming the feed for a malformed tensor.
   * @example
   * ```ts
   * const { purchase_probability } = await model.run({ features: { data: x, dims: [1, 17] } });
   * ```
   */
  async run<T extends Record<string, RunOutput> = Record<string, RunOutput>>(feeds: Record<string, Feed>, options: RunOptions = {}): Promise<T> {
    if (this.disposed) throw new HearthError('DISPOSED', 'this model was disposed');
    if (options === null || typeof options !== 'object') throw new TypeError('run: options must be an object');
    if (options.transfer !== undefined && typeof options.transfer !== 'boolean') throw new TypeError('run: options.transfer must be a boolean');
    if (options.allowNonFinite !== undefined && typeof options.allowNonFinite !== 'boolean') throw new TypeError('run: options.allowNonFinite must be a boolean');
    checkFeeds(feeds, this.inputs, options.allowNonFinite === true);
    const wire: Record<string, Feed> = {};
    const transfer = new Set<ArrayBuffer>();
    for (const [name, feed] of Object.entries(feeds)) {
      const kind = this.inputs.find((i) => i.name === name)?.kind;
      if (kind === 'map' || kind === 'mapSequence') {
        wire[name] = feed; // plain objects: copied to a worker
        continue;
      }
      const t = feed as Tensor;
      let data = t.data;
      if (this.hearth.worker && ArrayBuffer.isView(data)) {
        const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
        if (!whole || options.transfer === false || transfer.has(data.buffer as ArrayBuffer)) data = data.slice();
        transfer.add(data.buffer as ArrayBuffer);
      }
      wire[name] = { data, dims: [...t.dims], ...(t.type ? { type: t.type } : {}) };
    }
    const r = await this.hearth.call<{ outputs: T } & Partial<Placement>>(
      'run', { handle: this.handle, feeds: wire }, [...transfer], this.generation);
    if (r.backend) this.place = { backend: r.backend, backendReason: r.backendReason };
    return r.outputs;
  }

  /**
   * Predicts from named features: one row (an object) or a batch (an array of objects, one run
   * of the model for all of them). The model's feature spec (given to {@link Hearth.loadModel},
   * carried in the model, or derived from inputs that name the features) encodes each field.
   *
   * @param rows - `{ feature: value }` with numbers, strings (categories) and booleans; `null`
   *   or a missing key takes the spec's default.
   * @returns for a classifier `{ label, probabilities: { label: p } }`, for a regressor
   *   `{ value }`; an array of them for an array of rows.
   * @throws `HearthError` `FEATURE` naming the `row`, `field` and `reason` (`missing`, `type`,
   *   `unknownCategory`, `nonFinite`, `notAnObject`); `SPEC_INVALID` when the model has no spec
   *   and its inputs do not name its features (write one with `hearth spec MODEL.onnx`);
   *   `DISPOSED`; `TypeError` when `rows` is not an object or an array.
   * @example
   * ```ts
   * const { label, probabilities } = await model.predict({ pageValues: 12.3, month: 'Nov', visitorType: 'Returning_Visitor', weekend: false });
   * ```
   */
  async predict(rows: FeatureRow): Promise<TabularPrediction>;
  async predict(rows: readonly FeatureRow[]): Promise<TabularPrediction[]>;
  async predict(rows: FeatureRow | readonly FeatureRow[]): Promise<TabularPrediction | TabularPrediction[]> {
    if (this.disposed) throw new HearthError('DISPOSED', 'this model was disposed');
    const batch = Array.isArray(rows);
    if (!batch && (rows === null || typeof rows !== 'object')) {
      throw new TypeError('predict: rows must be an object of named features or an array of them');
    }
    const r = await this.hearth.call<{ list: TabularPrediction[] } & Partial<Placement>>(
      'predictFeatures', { handle: this.handle, rows: batch ? rows : [rows] }, [], this.generation);
    if (r.backend) this.place = { backend: r.backend, backendReason: r.backendReason };
    return batch ? r.list : r.list[0]!;
  }

  /**
   * The feature spec {@link Model.predict} uses and where it came from: `'given'` (loadModel's
   * `featureSpec`), `'metadata'` (the model's `hearth.features` metadata) or `'derived'` (from
   * inputs that name the features).
   * @throws `HearthError` `SPEC_INVALID` when the model has none.
   * @example
   * ```ts
   * const { spec, source } = await model.featureSpec();
   * ```
   */
  async featureSpec(): Promise<{ spec: FeatureSpec; source: 'given' | 'metadata' | 'derived' }> {
    if (this.disposed) throw new HearthError('DISPOSED', 'this model was disposed');
    return this.hearth.call('featureSpec', { handle: this.handle }, [], this.generation);
  }

  /**
   * Frees the model in the engine; later `run` calls reject with `DISPOSED`.
   * @example
   * ```ts
   * model.dispose();
   * ```
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.hearth.call('free', { handle: this.handle }, [], this.generation).catch(() => {});
  }
}

function checkIds(v: unknown, what: string): void {
  if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) {
    throw new TypeError(`${what} must be an array of item ids (strings)`);
  }
}

function checkK(k: unknown, what: string): void {
  if (k === undefined) return;
  if (typeof k !== 'number') throw new TypeError(`${what}.k must be a number`);
  if (!Number.isInteger(k) || k < 1 || k > 10000) throw new RangeError(`${what}.k must be an integer from 1 to 10000, got ${k}`);
}

function checkFilter(f: unknown, what: string): void {
  if (f === undefined) return;
  if (f === null || typeof f !== 'object') throw new TypeError(`${what}.filter must be an object`);
  const x = f as Record<string, unknown>;
  if (x.category !== undefined && typeof x.category !== 'string') checkIds(x.category, `${what}.filter.category`);
  for (const p of ['priceMin', 'priceMax'] as const) {
    if (x[p] !== undefined && (typeof x[p] !== 'number' || Number.isNaN(x[p]))) throw new TypeError(`${what}.filter.${p} must be a number`);
  }
  if (x.inStock !== undefined && typeof x.inStock !== 'boolean') throw new TypeError(`${what}.filter.inStock must be a boolean`);
}

function checkEvent(e: unknown, what: string): asserts e is InteractionEvent {
  if (e === null || typeof e !== 'object') throw new TypeError(`${what} must be { item, event, weight?, ts? }`);
  const x = e as Record<string, unknown>;
  if (typeof x.item !== 'string' || x.item === '') throw new TypeError(`${what}.item must be an item id (a non-empty string)`);
  if (typeof x.event !== 'string' || x.event === '') throw new TypeError(`${what}.event must be a kind such as 'view', 'cart' or 'purchase'`);
  if (x.weight !== undefined && (typeof x.weight !== 'number' || !Number.isFinite(x.weight))) throw new TypeError(`${what}.weight must be a finite number`);
  if (x.ts !== undefined && (typeof x.ts !== 'number' || !Number.isFinite(x.ts))) throw new TypeError(`${what}.ts must be a time in ms`);
}

/**
 * A loaded recommendation bundle. Get one from {@link Hearth.loadRecommender}. All computing
 * happens on the device: after loading, recommending and recording make no network request.
 *
 * @example
 * ```ts
 * const me = await shop.profile();
 * await me.record({ item: '85123A', event: 'purchase' });
 * const recs = await shop.recommend({ profile: me, k: 10 });
 * ```
 */
export class Recommender {
  private disposed = false;

  /** Made by the package; see the class's doc for how to get one. */
  private constructor(
    /** @internal */ readonly hearth: Hearth,
    /** @internal */ readonly handle: number,
    /** @internal */ readonly generation: number,
    /** What the bundle holds: version, item count, embedding dim and dtype, attribution. */
    readonly info: RecommenderInfo,
    /** The profile store's name (the bundle URL unless `options.name` was given). */
    readonly name: string | undefined,
    private place: Placement,
  ) {}

  /**
   * Where the top-k scan runs: `'webgpu'` (the item table lives on the GPU; folding the profile
   * in, diversity and explanations stay on the CPU) or `'cpu'`. With `backend: 'auto'` a timed
   * query decides; a lost GPU device moves the recommender to the CPU. {@link Recommender.similar}
   * always runs on the CPU (cosine over one item's neighbours).
   */
  get backend(): 'cpu' | 'webgpu' {
    return this.place.backend;
  }

  /** Why the recommender runs where it does (the probe's timings, or the device loss); may be undefined. */
  get backendReason(): string | undefined {
    return this.place.backendReason;
  }

  /** @internal */
  call<R>(op: string, args: Record<string, unknown>): Promise<R> {
    if (this.disposed) return Promise.reject(new HearthError('DISPOSED', 'this recommender was disposed'));
    return this.hearth.call<R>(op, { handle: this.handle, ...args }, [], this.generation);
  }

  /**
   * Recommends items for a profile (or for `events`, or by popularity when there is neither).
   *
   * @param options - see {@link RecommendOptions}.
   * @returns up to `k` items, best first, each with the history items that led to it (`because`).
   * @example
   * ```ts
   * const recs = await shop.recommend({ profile: me, k: 10, exclude: 'seen', filter: { category: 'Kitchen' }, diversity: 0.3 });
   * ```
   */
  async recommend(options: RecommendOptions = {}): Promise<Recommendation[]> {
    if (options === null || typeof options !== 'object') throw new TypeError('recommend: options must be an object');
    const { profile, ...rest } = options;
    checkK(rest.k, 'recommend: options');
    if (rest.exclude !== undefined && rest.exclude !== 'seen' && rest.exclude !== 'none') {
      throw new RangeError(`recommend: options.exclude must be 'seen' or 'none', got '${String(rest.exclude)}'`);
    }
    checkIds(rest.allow, 'recommend: options.allow');
    checkIds(rest.deny, 'recommend: options.deny');
    checkFilter(rest.filter, 'recommend: options');
    if (rest.diversity !== undefined) {
      if (typeof rest.diversity !== 'number') throw new TypeError('recommend: options.diversity must be a number');
      if (!(rest.diversity >= 0 && rest.diversity <= 1)) throw new RangeError(`recommend: options.diversity must be in [0, 1], got ${rest.diversity}`);
    }
    if (rest.boost !== undefined && (rest.boost === null || typeof rest.boost !== 'object')) throw new TypeError('recommend: options.boost must map item ids to numbers');
    if (rest.events !== undefined) {
      if (!Array.isArray(rest.events)) throw new TypeError('recommend: options.events must be an array');
      rest.events.forEach((e, i) => checkEvent(e, `recommend: options.events[${i}]`));
    }
    if (rest.now !== undefined && typeof rest.now !== 'number') throw new TypeError('recommend: options.now must be a time in ms');
    if (rest.explain !== undefined && (typeof rest.explain !== 'number' || !(rest.explain >= 0))) throw new RangeError('recommend: options.explain must be a number >= 0');
    let p: number | undefined;
    if (profile !== undefined) {
      if (!(profile instanceof Profile)) throw new TypeError('recommend: options.profile must be a Profile from recommender.profile()');
      if (profile.recommender !== this) throw new TypeError('recommend: options.profile belongs to another recommender');
      if (rest.events !== undefined) throw new TypeError('recommend: give options.profile or options.events, not both');
      p = profile.liveHandle();
    }
    const opts = { ...rest, now: rest.now ?? Date.now() };
    const r = await this.call<{ list: Recommendation[] } & Partial<Placement>>('recommend', { profile: p, opts });
    if (r.backend) this.place = { backend: r.backend, backendReason: r.backendReason };
    return r.list;
  }

  /**
   * Items like `id` (item-to-item).
   *
   * @param id - an item id of the bundle.
   * @param options - see {@link SimilarOptions}.
   * @example
   * ```ts
   * const alike = await shop.similar('85123A', { k: 6 });
   * ```
   */
  async similar(id: string, options: SimilarOptions = {}): Promise<SimilarItem[]> {
    if (typeof id !== 'string') throw new TypeError('similar: id must be an item id (a string)');
    if (options === null || typeof options !== 'object') throw new TypeError('similar: options must be an object');
    checkK(options.k, 'similar: options');
    checkIds(options.allow, 'similar: options.allow');
    checkIds(options.deny, 'similar: options.deny');
    checkFilter(options.filter, 'similar: options');
    if (options.diversity !== undefined && !(typeof options.diversity === 'number' && options.diversity >= 0 && options.diversity <= 1)) {
      throw new RangeError('similar: options.diversity must be a number in [0, 1]');
    }
    return this.call('similar', { id, opts: { ...options } });
  }

  /**
   * An item's metadata, or `undefined` for an unknown id.
   * @example
   * ```ts
   * const item = await shop.item('85123A');   // { id, name, category, price, … }
   * ```
   */
  async item(id: string): Promise<Item | undefined> {
    if (typeof id !== 'string') throw new TypeError('item: id must be an item id (a string)');
    return this.call('item', { id });
  }

  /**
   * The visitor's profile: their interactions, kept in IndexedDB on this device (memory in Node)
   * and replayed into the engine. It survives reloads until {@link Profile.clear}.
   *
   * @throws `TypeError` when the bundle was loaded from bytes without `options.name`;
   *   `HearthError` `STORAGE` when IndexedDB cannot be read (or a compaction cannot be written).
   * @example
   * ```ts
   * const me = await shop.profile();
   * ```
   */
  async profile(): Promise<Profile> {
    if (this.name === undefined) {
      throw new TypeError('profile: the bundle was loaded from bytes; pass loadRecommender(bytes, { name }) to name its profile store');
    }
    const store = await this.hearth.platform.profileStore(this.name);
    // listening before the read: what other pages store after it reaches this profile live
    const sync = new LiveSync<StoredEvent>(storeName(this.name));
    try {
      // the pack and the few loose events after it; many loose ones (a history an older version
      // wrote) are packed first, and a long pack compacted (one summary per item for the oldest)
      const { events, lastKey, loose } = await store.open(this.compactor());
      const handle = await this.call<number>('openProfile', { events });
      return make<Profile>(Profile, this, store, handle, loose, sync, lastKey);
    } catch (e) {
      sync.close();
      throw e;
    }
  }

  /** @internal How this bundle's profiles compact their pack ({@link compactEvents}). */
  compactor(): (events: StoredEvent[]) => ReturnType<typeof compactEvents> {
    const foldIn = this.info.foldIn as FoldIn | undefined;
    return (all) => compactEvents(all, foldIn);
  }

  /**
   * Frees the bundle and its profiles in the engine (the stored profile stays).
   * @example
   * ```ts
   * shop.dispose();
   * ```
   */
  dispose(): void {
    if (this.disposed) return;
    this.hearth.call('free', { handle: this.handle }, [], this.generation).catch(() => {});
    this.disposed = true;
  }
}

/**
 * A visitor's interactions with one recommender. They never leave the device: they are written
 * to IndexedDB (database `hearth-ml-profile:<name>`) and to the engine, nowhere else. Other
 * pages (tabs) of this browser with the same profile open fold in each recorded event at once,
 * without a reload (a same-origin `BroadcastChannel`), and see a {@link Profile.clear}.
 *
 * @example
 * ```ts
 * await me.record({ item: '85123A', event: 'cart' });
 * const json = await me.export();   // hand the visitor their data
 * await me.clear();                 // and erase it
 * ```
 */
export class Profile {
  private disposed = false;

  /** Made by the package; see the class's doc for how to get one. */
  private constructor(
    /** The recommender this profile belongs to. */
    readonly recommender: Recommender,
    private readonly store: ProfileStore,
    private readonly handle: number,
    /** Loose (not yet packed) events this page knows of in the store. */
    private loose: number,
    private readonly sync: LiveSync<StoredEvent>,
    lastKey: number,
  ) {
    // events other pages record into this profile from now on are folded in here too
    sync.start(
      lastKey,
      async (event) => {
        if (this.disposed) return;
        await this.recommender.call('record', { profile: this.handle, event });
      },
      async () => {
        if (this.disposed) return;
        await this.recommender.call('clearProfile', { profile: this.handle });
        this.loose = 0;
      },
    );
  }

  /** @internal */
  liveHandle(): number {
    if (this.disposed) throw new HearthError('DISPOSED', 'this profile was disposed');
    return this.handle;
  }

  /** Where the events are kept: `'indexeddb'` (browsers) or `'memory'` (Node). */
  get storage(): string {
    return this.store.kind;
  }

  /**
   * Records an interaction: checked and folded into the profile at once (so calls made after
   * this one see it), then stored on the device; it resolves when the IndexedDB transaction has
   * completed. When the check or the write fails, nothing was stored and the profile is as
   * before (a refused write takes the event out of the profile again).
   *
   * @param event - `{ item, event: 'view' | 'cart' | 'purchase', weight?, ts? }`; `ts` defaults to now.
   * @returns `true` once the event is folded in and stored.
   * @throws `HearthError` `UNKNOWN_ITEM` when the bundle has no such item, `ARGUMENT` for a kind
   *   the bundle has no weight for (pass `weight`), `STORAGE` when IndexedDB refuses the write
   *   (quota, a closed database); `TypeError` for a malformed event.
   * @example
   * ```ts
   * await me.record({ item: '85123A', event: 'purchase' });
   * ```
   */
  async record(event: InteractionEvent): Promise<boolean> {
    checkEvent(event, 'record: event');
    const stored: StoredEvent = { item: event.item, event: event.event, ts: event.ts ?? Date.now() };
    if (event.weight !== undefined) stored.weight = event.weight;
    const profile = this.liveHandle();
    // the engine first, in call order: it rejects an unknown item or a kind without weight
    // before recording anything, and a recommend() called after this record() sees the event
    await this.recommender.call('record', { profile, event: stored });
    let key: number;
    try {
      key = await this.store.add(stored);
    } catch (e) {
      await this.recommender.call('unrecord', { profile, event: stored }).catch(() => undefined);
      throw e;
    }
    // other pages with this profile open fold it in too
    this.sync.added(key, stored);
    if (++this.loose > PACK_AT) await this.pack();
    return true;
  }

  /**
   * Moves the loose events into the pack (one record), compacting a long pack: all but its
   * newest events become one summary per item (in one transaction, so another page's events
   * are kept), so that the store stays short and opening it stays fast. The engine's profile is
   * unchanged: the summaries score as their events did. A refused pack costs nothing (the event
   * is stored; it is only still loose): it is tried again after {@link PACK_AT} more events.
   */
  private async pack(): Promise<void> {
    this.loose = 0;
    await this.store.pack(this.recommender.compactor()).catch(() => undefined);
  }

  /**
   * The recorded interactions, oldest first. Once a history grows past 1,000 events (checked
   * every 100 records, and when a profile an older version wrote is opened), all but the newest
   * 500 are folded into one summary event per item (`{ item, event: 'summary', weight, ts,
   * count }`), which scores exactly like the events it replaces.
   * @example
   * ```ts
   * const history = await me.events();
   * ```
   */
  async events(): Promise<InteractionEvent[]> {
    this.liveHandle();
    return this.store.all();
  }

  /**
   * Everything stored about the visitor, as a JSON string
   * (`{ "format": "hearth-ml-profile", "version": 1, "recommender": name, "events": [...] }`).
   * @example
   * ```ts
   * download('my-data.json', await me.export());
   * ```
   */
  async export(): Promise<string> {
    const events = await this.events();
    return JSON.stringify({ format: 'hearth-ml-profile', version: 1, recommender: this.recommender.name, events });
  }

  /**
   * Erases the profile: the IndexedDB database is deleted and the engine's profile emptied.
   * The profile stays usable (empty).
   * @example
   * ```ts
   * await me.clear();
   * ```
   */
  async clear(): Promise<void> {
    await this.store.clear();
    this.sync.cleared();
    await this.recommender.call('clearProfile', { profile: this.liveHandle() });
    this.loose = 0;
  }

  /**
   * Frees the engine's copy (the stored events stay).
   * @example
   * ```ts
   * me.dispose();
   * ```
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sync.close();
    this.recommender.call('free', { handle: this.handle }).catch(() => {});
  }
}
