/**
 * The engine side: owns the wasm instance and every handle (sessions, recommenders, profiles,
 * tracers, learners).
 * It runs inside the worker (worker.ts) or inline on the calling thread; either way it is driven
 * by the same operations, so both paths behave alike.
 * Not part of the public API.
 * @packageDocumentation
 */
import type * as CpuGlue from '../wasm/hearth-cpu-full.js';
import type * as GpuGlue from '../wasm/hearth.js';

/** Which engine runs: `cpu` (the CPU builds) or `gpu` (hearth: CPU + WebGPU). */
export type Flavor = 'cpu' | 'gpu';

/**
 * A wasm build: `cpu` (hearth-cpu: the ONNX executor and the recommender, the smallest),
 * `cpu-full` (hearth-cpu-full: adds the `ai.onnx.ml` operators and knowledge tracing) or `gpu`
 * (hearth: everything, plus WebGPU). On the CPU the engine loads a build when it first needs it:
 * hearth-cpu for a plain model or a recommender, hearth-cpu-full for a model that imports the
 * `ai.onnx.ml` domain or a tracer, and, once hearth-cpu-full is loaded, it for everything new.
 */
export type Build = 'cpu' | 'cpu-full' | 'gpu';

/**
 * The full CPU build's glue: the small one lacks the tracer classes (looked up at run time), the
 * GPU build adds the async methods below.
 */
type Glue = typeof CpuGlue;

/** Where a build's wasm comes from: a URL, or its bytes (Node). */
export type WasmSource = URL | string | BufferSource;

/** Reply of `init`: the backend the engine started and, when it is not the GPU, why. */
export interface InitReply {
  backend: 'cpu' | 'webgpu';
  reason?: string;
  adapter?: string;
}

/** What the engine answers: a value and the buffers that may be moved with it. */
export interface Reply {
  value: unknown;
  transfer: Transferable[];
}

// The wasm classes as the generated glue types them (src/wasm, its `.d.ts`): either build's
// object, with the GPU build's additions optional.
type WasmTensor = CpuGlue.WasmTensor;
type WasmRecommender = CpuGlue.Recommender &
  Partial<Pick<GpuGlue.Recommender, 'backend' | 'backendProbe' | 'fallbackReason' | 'recommendAsync'>>;
type WasmProfile = CpuGlue.Profile & Partial<Pick<GpuGlue.Profile, 'recommendAsync'>>;
type WasmRecommenderClass = typeof CpuGlue.Recommender & Partial<Pick<typeof GpuGlue.Recommender, 'create'>>;
/** The GPU build's Session. */
type GpuSession = GpuGlue.Session;
type WasmTracer = CpuGlue.Tracer;
type WasmLearner = CpuGlue.Learner;
type WasmTracerClass = typeof CpuGlue.Tracer;
type WasmPredictor = CpuGlue.TabularPredictor & Partial<{ predictAsync(rows: unknown[]): Promise<CpuGlue.TabularPrediction[]> }>;

/** A learner's replay since its base is kept below this many answers (see `Engine.rebase`). */
const REBASE_AT = 4096;
const REBASE_KEEP = 256;

/**
 * A bundle's fingerprint: SHA-256 (hex) where WebCrypto is available (secure contexts, Node),
 * else two 32-bit FNV-1a hashes; a saved learner state is used only with the bundle it came from.
 */
async function fingerprint(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) {
    const d = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
    return 'sha256-' + Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
  }
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i]!, 0x01000193);
    h2 = Math.imul(h2 ^ bytes[i]!, 0x01000193) ^ (h2 >>> 13);
  }
  return `fnv-${bytes.length}-${(h1 >>> 0).toString(16)}-${(h2 >>> 0).toString(16)}`;
}

function engineError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * A build's wasm, next to the package's `dist/`. Literal `new URL(…, import.meta.url)` calls, so
 * bundlers (Vite) find and emit every file.
 */
export function defaultWasmUrl(build: Build = 'cpu'): URL {
  if (build === 'gpu') return new URL('../wasm/hearth_bg.wasm', import.meta.url);
  if (build === 'cpu-full') return new URL('../wasm/hearth-cpu-full_bg.wasm', import.meta.url);
  return new URL('../wasm/hearth-cpu_bg.wasm', import.meta.url);
}

/** A build's JS glue (imported only when that build is used). */
function importGlue(build: Build): Promise<Glue> {
  if (build === 'gpu') return import('../wasm/hearth.js') as unknown as Promise<Glue>;
  if (build === 'cpu-full') return import('../wasm/hearth-cpu-full.js') as unknown as Promise<Glue>;
  return import('../wasm/hearth-cpu.js') as unknown as Promise<Glue>;
}

/**
 * Whether an ONNX model needs the full CPU build: it imports the `ai.onnx.ml` domain (a top-level
 * `opset_import` entry, ModelProto field 8, whose field 1 is the domain) or carries a feature spec
 * for `predict` (a `metadata_props` entry, field 14, whose key, field 1, is `hearth.features`).
 * Read without decoding the graph. Bytes that are not a well-formed ModelProto answer false, and
 * the build that parses them reports the error.
 */
export function needsFullCpuBuild(b: Uint8Array): boolean {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let scale = 1;
    for (let k = 0; k < 10; k++) {
      if (i >= b.length) throw new RangeError('truncated');
      const x = b[i++]!;
      v += (x & 0x7f) * scale;
      if (x < 0x80) return v;
      scale *= 128;
    }
    throw new RangeError('varint');
  };
  const skip = (wire: number): void => {
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 2) {
      const n = varint();
      i += n;
    }
    else if (wire === 5) i += 4;
    else throw new RangeError('wire type');
  };
  try {
    while (i < b.length) {
      const tag = varint();
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if ((field !== 8 && field !== 14) || wire !== 2) {
        skip(wire);
        continue;
      }
      const len = varint();
      const end = i + len;
      const want = field === 8 ? 'ai.onnx.ml' : 'hearth.features';
      while (i < end) {
        const t = varint();
        if (t === 10) {
          const n = varint();
          if (new TextDecoder().decode(b.subarray(i, i + n)) === want) return true;
          i += n;
        } else skip(t % 8);
      }
      i = end;
    }
  } catch {
    return false;
  }
  return false;
}

/**
 * The core build's refusal of a node it leaves out (an `ai.onnx.ml` node, or one of the rare
 * operators of `EXTRA_OPS` in src/onnx/mod.rs, whose errors name the full build): load the model
 * into the full build.
 */
function refusedForFull(e: unknown): boolean {
  return (e as { code?: string })?.code === 'UNSUPPORTED' && /hearth-cpu-full, for such models/.test(String((e as Error)?.message));
}

/**
 * A WebGPU adapter's description and whether it is a software fallback (e.g. SwiftShader, a CPU
 * emulation of a GPU), or why there is none here.
 */
async function probeAdapter(): Promise<{ adapter?: string; software?: boolean; reason?: string }> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<any> } } | undefined)?.gpu;
  if (!gpu) return { reason: 'this environment exposes no WebGPU (navigator.gpu is undefined)' };
  try {
    const a = await gpu.requestAdapter();
    if (!a) return { reason: 'navigator.gpu.requestAdapter() found no GPU adapter' };
    const info = a.info ?? {};
    const adapter = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter';
    return { adapter, software: Boolean(info.isFallbackAdapter ?? a.isFallbackAdapter) };
  } catch (e) {
    return { reason: `navigator.gpu.requestAdapter() failed: ${e instanceof Error ? e.message : e}` };
  }
}

/**
 * The inline engines that recover from traps. All engines of a realm that load one build share
 * its glue module, hence one wasm instance: a trap in one is rebuilt for all of them.
 */
const recovering = new Set<Engine>();

/** An object the engine made, and (when it recovers from traps) what remakes it. */
interface Handle {
  kind: string;
  obj: any;
  /** the build that holds it */
  build: Build;
  owner?: number;
  /** model / recommender: its bytes (and a model's external data) */
  bytes?: Uint8Array;
  external?: unknown[];
  /** profile: the events it holds, in order */
  events?: unknown[];
  /**
   * learner: the state it was restored from or last rebased on (`exportState()`; none: a new
   * learner) and the answers applied since, in order (kept in every engine: `unobserve` replays
   * them)
   */
  base?: unknown;
  answers?: { question: string; correct: boolean; ts: number }[];
  /** tracer: its bundle's SHA-256 (hex), which a saved learner state must carry */
  fingerprint?: string;
  /** where it runs now, when a rebuild moved it (reported with its next result) */
  moved?: Placement;
  /** model: its tabular predictor (`predict`), or why it has none, and the spec it was given */
  predictor?: WasmPredictor;
  predictorError?: Error;
  featureSpec?: string;
}

export class Engine {
  /** The builds loaded so far (on the CPU each is loaded when first needed). */
  private builds: Partial<Record<Build, Glue>> = {};
  private loading = new Map<Build, Promise<Glue>>();
  private flavor: Flavor = 'cpu';
  /** Whether `init` succeeded. */
  private started = false;
  /** The backend sessions and recommenders are created on (GPU build): 'webgpu' or 'auto'. */
  private choice: 'webgpu' | 'auto' = 'auto';
  private starting: Promise<InitReply> | undefined;
  /** Why the last `init` failed: later calls report it (a restarted worker replays `init`). */
  private startError: Error | undefined;
  private readonly handles = new Map<number, Handle>();
  private next = 1;
  /** Each recommender's event weights (its bundle's `foldIn.eventWeights`). */
  private readonly weights = new WeakMap<object, Record<string, number>>();

  /** Set by a trap (inline engines): the next call first rebuilds the instance. */
  private trapped: Error | undefined;

  /**
   * `wasm` gives where a build's wasm comes from: a URL, or its bytes (Node), for each {@link Build}. With `recover`
   * (the inline engines) a wasm trap rejects that call with `WORKER_CRASHED` and the next call
   * runs on a fresh instance with every handle remade from its bytes and events; without it
   * (the worker) the trap is thrown as it is and the worker is replaced.
   */
  constructor(
    private readonly wasm: (build: Build) => WasmSource | Promise<WasmSource> = defaultWasmUrl,
    private readonly recover = false,
  ) {
    if (recover) recovering.add(this);
  }

  /** Forgets the engine (its `Hearth` was disposed): a later rebuild leaves it out. */
  close(): void {
    recovering.delete(this);
  }

  /**
   * Starts a build for `backend`: the GPU build when WebGPU gives an adapter (`'webgpu'` fails
   * without one, `'auto'` falls back to the CPU build and says why); the CPU build otherwise.
   */
  private async init(backend: 'auto' | 'cpu' | 'webgpu'): Promise<InitReply> {
    const reply: InitReply = { backend: 'cpu' };
    if (backend !== 'cpu') {
      const { adapter, software, reason } = await probeAdapter();
      if (adapter && software && backend === 'auto') {
        // a software adapter emulates the GPU on the CPU: never faster than SIMD128, and the GPU
        // build, device start and timed probes would delay the first prediction by ~0.5 s
        reply.reason = `the only WebGPU adapter is a software fallback (${adapter}): WebAssembly SIMD128 on the CPU is faster`;
        reply.adapter = adapter;
        this.flavor = 'cpu';
        return reply;
      }
      if (adapter) {
        try {
          await this.load('gpu');
          this.flavor = 'gpu';
          this.choice = backend;
          return { backend: 'webgpu', adapter };
        } catch (e) {
          reply.reason = (e as Error).message;
        }
      } else {
        reply.reason = reason;
      }
      if (backend === 'webgpu') {
        throw engineError('BACKEND_UNAVAILABLE', `backend 'webgpu' is not available: ${reply.reason}; use backend 'cpu' or 'auto'`);
      }
    }
    // the CPU builds are loaded when a call first needs one (a tracer or an ai.onnx.ml model
    // needs the full build, so a page that only uses those never downloads the small one)
    this.flavor = 'cpu';
    return reply;
  }

  /** A build's glue, instantiated on first use (concurrent callers share one load). */
  private load(build: Build): Promise<Glue> {
    const have = this.builds[build];
    if (have) return Promise.resolve(have);
    let p = this.loading.get(build);
    if (!p) {
      p = (async () => {
        try {
          const glue = await importGlue(build);
          await glue.default({ module_or_path: await this.wasm(build) });
          this.builds[build] = glue;
          return glue;
        } catch (e) {
          const what = build === 'gpu' ? 'WebGPU' : build === 'cpu-full' ? 'full CPU' : 'CPU';
          throw engineError('BACKEND_UNAVAILABLE', `the ${what} wasm could not start: ${e instanceof Error ? e.message : e}`);
        } finally {
          this.loading.delete(build);
        }
      })();
      this.loading.set(build, p);
    }
    return p;
  }

  /** The build a new object goes to: the GPU build, or the CPU build it needs (see {@link Build}). */
  private pick(full: boolean): Build {
    if (this.flavor === 'gpu') return 'gpu';
    return full || this.builds['cpu-full'] || this.loading.has('cpu-full') ? 'cpu-full' : 'cpu';
  }

  private add(kind: string, obj: unknown, build: Build, extra: Omit<Handle, 'kind' | 'obj' | 'build'> = {}): number {
    const h = this.next++;
    // the bytes are kept only where a rebuild needs them (inline): a worker is replaced instead
    this.handles.set(h, { kind, obj, build, ...(this.recover ? extra : { owner: extra.owner }) });
    return h;
  }

  private async session(bytes: Uint8Array, external: unknown[], build: Build): Promise<CpuGlue.Session> {
    const files = (external.length ? external : undefined) as unknown[] | undefined;
    const glue = await this.load(build);
    return build === 'gpu'
      ? ((glue.Session as unknown as typeof GpuGlue.Session).create(bytes, this.choice, files) as Promise<unknown> as Promise<CpuGlue.Session>)
      : glue.Session.fromBytes(bytes, files);
  }

  /**
   * A new session: in the full CPU build when the model imports ai.onnx.ml or comes with a feature
   * spec for `predict` (given, `spec`, or in its metadata), or the small build refuses it.
   */
  private async newSession(bytes: Uint8Array, external: unknown[], spec = false): Promise<{ s: CpuGlue.Session; build: Build }> {
    const build = this.pick(spec || needsFullCpuBuild(bytes));
    try {
      return { s: await this.session(bytes, external, build), build };
    } catch (e) {
      if (build !== 'cpu' || !refusedForFull(e)) throw e;
      return { s: await this.session(bytes, external, 'cpu-full'), build: 'cpu-full' };
    }
  }

  private async recommender(bytes: Uint8Array, build: Build): Promise<WasmRecommender> {
    const cls = this.recommenderClass(await this.load(build));
    return build === 'gpu' && cls.create ? cls.create(bytes, this.choice) : cls.fromBytes(bytes);
  }

  /**
   * A fresh wasm instance after a trap, with every handle remade under its number (models and
   * recommenders from their bytes, profiles from their events), so the objects the caller holds
   * keep working. The old instance's objects are released without calling into it, so no
   * finalizer reaches the new one. The CPU build re-instantiates itself; the GPU build's glue
   * also keeps wasm closures alive across calls, so after a trap there the engine moves to the
   * CPU build (a separate module) and each model and recommender reports the move.
   */
  private async rebuild(why: Error): Promise<void> {
    // which instance trapped is not known: every build this engine (and any engine sharing one of
    // its builds' glue, hence instance) uses is made afresh
    const mine = new Set(Object.values(this.builds));
    const group = [...recovering].filter((e) => Object.values(e.builds).some((g) => mine.has(g)));
    for (const engine of group) for (const e of engine.handles.values()) e.obj.__destroy_into_raw?.();
    const fromGpu = this.flavor === 'gpu';
    const cpuGlues = new Set(group.flatMap((e) => [e.builds.cpu, e.builds['cpu-full']]).filter((g): g is Glue => g !== undefined));
    for (const glue of cpuGlues) {
      const forget = Reflect.get(glue, '__hearth_forget_instance') as (() => void) | undefined;
      if (!forget) throw new Error('this wasm glue cannot make a fresh instance (build it with scripts/build-wasm.sh)');
      forget();
    }
    const reason = `the WebGPU engine trapped (${why.message}); restarted on the CPU`;
    for (const engine of group) {
      // the first load of a build instantiates afresh; the other engines find that instance
      engine.builds = {};
      if (engine.flavor === 'gpu') engine.flavor = 'cpu';
      engine.trapped = undefined;
      for (const e of engine.handles.values()) {
        // what ran on the GPU build moves to the full CPU build, which has all it had
        if (e.build === 'gpu') e.build = 'cpu-full';
        if (e.kind === 'model') {
          e.obj = await engine.session(e.bytes!, e.external ?? [], e.build);
          e.predictor = undefined;
          try { engine.attachPredictor(e, e.bytes!); } catch { /* as at load: raised by predict */ }
        }
        else if (e.kind === 'recommender') e.obj = await engine.recommender(e.bytes!, e.build);
        else if (e.kind === 'tracer') e.obj = engine.tracerClass(await engine.load(e.build)).fromBytes(e.bytes!);
        else if (e.kind === 'learner') e.obj = engine.replayLearner(e);
        else if (e.kind === 'profile') {
          // a recommender comes before its profiles (Map order is creation order)
          e.obj = (engine.handles.get(e.owner!)!.obj as WasmRecommender).newProfile();
          e.obj.recordMany(e.events ?? []);
        }
        if (fromGpu && (e.kind === 'model' || e.kind === 'recommender')) e.moved = { backend: 'cpu', backendReason: reason };
      }
    }
  }

  private get(h: number, kind: string): any {
    const e = this.handles.get(h);
    if (!e || e.kind !== kind) throw engineError('DISPOSED', `this ${kind} was disposed`);
    return e.obj;
  }

  /**
   * A model's tabular predictor: from its given spec, its metadata's, or one derived from its
   * inputs. Without one, `predict` later raises the reason (most models are not tabular).
   */
  private attachPredictor(e: Handle, bytes: Uint8Array): void {
    const glue = this.builds[e.build]!;
    const cls = Reflect.get(glue, 'TabularPredictor') as typeof CpuGlue.TabularPredictor | undefined;
    e.predictorError = undefined;
    if (!cls) {
      e.predictorError = engineError('UNSUPPORTED', 'this model was loaded into hearth-cpu, which has no tabular predictor: give loadModel a `featureSpec` (or embed one with `hearth spec --embed`) so the model loads into hearth-cpu-full, which has');
      if (e.featureSpec !== undefined) throw e.predictorError;
      return;
    }
    try {
      e.predictor = cls.create(e.obj, bytes, e.featureSpec);
    } catch (err) {
      e.predictorError = err as Error;
      throw err;
    }
  }

  private recommenderClass(glue: Glue): WasmRecommenderClass {
    // looked up at run time: builds without the recommender export no such class
    const cls = Reflect.get(glue, 'Recommender') as WasmRecommenderClass | undefined;
    if (!cls) throw engineError('UNSUPPORTED', 'this build of hearth-ml has no recommender engine (its wasm exports no Recommender)');
    return cls;
  }

  private tracerClass(glue: Glue): WasmTracerClass {
    const cls = Reflect.get(glue, 'Tracer') as WasmTracerClass | undefined;
    if (!cls) throw engineError('UNSUPPORTED', 'this build of hearth-ml has no knowledge tracer (its wasm exports no Tracer)');
    return cls;
  }

  /** A learner's wasm object and its handle entry (which keeps its answers). */
  /** A learner remade from its handle's base state and the answers since (see {@link Handle}). */
  private replayLearner(e: Handle): WasmLearner {
    const t = this.handles.get(e.owner!)!.obj as WasmTracer;
    const l = e.base === undefined ? t.newLearner() : t.restoreLearner(e.base);
    try {
      l.observeMany(e.answers ?? []);
    } catch (err) {
      l.free();
      throw err;
    }
    return l;
  }

  /**
   * Keeps a learner's replay short: past {@link REBASE_AT} answers since its base, all but the
   * newest {@link REBASE_KEEP} are folded into a new base (an `unobserve` takes back a recent one).
   */
  private rebase(e: Handle): void {
    const answers = e.answers!;
    if (answers.length <= REBASE_AT) return;
    const l = this.replayLearner({ ...e, answers: answers.slice(0, -REBASE_KEEP) });
    e.base = l.exportState();
    l.free();
    e.answers = answers.slice(-REBASE_KEEP);
  }

  private learner(h: number): { obj: WasmLearner; entry: Handle } {
    const obj = this.get(h, 'learner') as WasmLearner;
    return { obj, entry: this.handles.get(h)! };
  }

  /** A rebuild's move of a handle to the CPU, reported once with its next result. */
  private movedBy(h: number): Partial<Placement> {
    const e = this.handles.get(h);
    const m = e?.moved;
    if (e) e.moved = undefined;
    return m ?? {};
  }

  /** Results carry the item's metadata (the wasm adds it; looked up here if it did not). */
  private withItems<T extends { id: string; item?: unknown }>(rec: WasmRecommender, list: T[]): T[] {
    for (const r of list) if (r.item === undefined) r.item = rec.item(r.id) ?? undefined;
    return list;
  }

  /** Runs one operation. Errors are thrown as the engine raised them. */
  async call(op: string, a: any): Promise<Reply> {
    const none: Transferable[] = [];
    if (op === 'init') {
      // set before the first await: calls that arrive meanwhile wait for it
      this.starting ??= this.init(a.backend ?? 'auto');
      try {
        const value = await this.starting;
        this.started = true;
        return { value, transfer: none };
      } catch (e) {
        this.starting = undefined;
        this.startError = e as Error;
        throw e;
      }
    }
    await this.starting?.catch(() => undefined);
    if (!this.started) throw this.startError ?? engineError('BACKEND_UNAVAILABLE', 'the engine was not started (init)');
    if (this.trapped) {
      // calls that arrive meanwhile wait for the same rebuild
      const why = this.trapped;
      this.trapped = undefined;
      const rebuilding = this.rebuild(why);
      this.starting = rebuilding.then(() => ({ backend: 'cpu' as const }));
      try {
        await rebuilding;
      } catch (e) {
        this.trapped = why;
        throw engineError('WORKER_CRASHED', `the wasm engine trapped (${why.message}) and could not be restarted: ${e instanceof Error ? e.message : e}`);
      } finally {
        this.starting = undefined;
      }
    }
    try {
      return await this.run(op, a);
    } catch (e) {
      if (!(this.recover && e instanceof WebAssembly.RuntimeError)) throw e;
      this.trapped = e;
      throw engineError('WORKER_CRASHED', `the wasm engine trapped (${e.message}); the next call runs on a fresh instance with every model, recommender and profile reloaded`);
    }
  }

  private async run(op: string, a: any): Promise<Reply> {
    const none: Transferable[] = [];
    const gpu = this.flavor === 'gpu';
    switch (op) {
      case 'loadModel': {
        const external = (a.external ?? []).map(([n, b]: [string, ArrayBuffer]) => [n, new Uint8Array(b)]);
        const bytes = new Uint8Array(a.bytes);
        const { s, build } = await this.newSession(bytes, external, a.featureSpec !== undefined);
        const handle = this.add('model', s, build, { bytes, external });
        const entry = this.handles.get(handle)!;
        entry.featureSpec = a.featureSpec;
        try {
          this.attachPredictor(entry, bytes);
        } catch (e) {
          // a spec the caller gave must fit the model; the model stays usable for run()
          if (a.featureSpec !== undefined) {
            s.free();
            this.handles.delete(handle);
            throw e;
          }
        }
        const value = { handle, inputs: s.inputs, outputs: s.outputs, ...placement(s as unknown as GpuSession) };
        return { value, transfer: none };
      }
      case 'run': {
        const s = this.get(a.handle, 'model');
        const outputs = (gpu ? await (s as GpuSession).runAsync(a.feeds) : s.run(a.feeds)) as Record<string, WasmTensor>;
        const transfer: Transferable[] = [];
        // string tensors (string[]) and ZipMap outputs (arrays of { label: probability }) are copied
        for (const t of Object.values(outputs)) if (ArrayBuffer.isView(t?.data)) transfer.push(t.data.buffer as ArrayBuffer);
        return { value: { outputs, ...(gpu ? moved(s) : this.movedBy(a.handle)) }, transfer };
      }
      case 'predictFeatures': {
        const e = this.handles.get(a.handle);
        if (!e || e.kind !== 'model') throw engineError('DISPOSED', 'this model was disposed');
        if (!e.predictor) throw e.predictorError ?? engineError('SPEC_INVALID', 'this model has no feature spec');
        const list = gpu && e.predictor.predictAsync ? await e.predictor.predictAsync(a.rows) : e.predictor.predict(a.rows);
        return { value: { list, ...(gpu ? moved(e.obj) : this.movedBy(a.handle)) }, transfer: none };
      }
      case 'featureSpec': {
        const e = this.handles.get(a.handle);
        if (!e || e.kind !== 'model') throw engineError('DISPOSED', 'this model was disposed');
        if (!e.predictor) throw e.predictorError ?? engineError('SPEC_INVALID', 'this model has no feature spec');
        return { value: { spec: e.predictor.spec, source: e.predictor.specSource }, transfer: none };
      }
      case 'loadRecommender': {
        const bytes = new Uint8Array(a.bytes);
        const build = this.pick(false);
        const r = await this.recommender(bytes, build);
        return { value: { handle: this.add('recommender', r, build, { bytes }), info: r.info(), ...placement(r) }, transfer: none };
      }
      case 'item':
        return { value: this.get(a.handle, 'recommender').item(a.id) ?? undefined, transfer: none };
      case 'recommend': {
        const rec: WasmRecommender = this.get(a.handle, 'recommender');
        const target: WasmRecommender | WasmProfile = a.profile !== undefined ? this.get(a.profile, 'profile') : rec;
        const list = gpu && target.recommendAsync ? await target.recommendAsync(a.opts) : target.recommend(a.opts);
        return { value: { list: this.withItems(rec, list), ...(gpu ? moved(rec) : this.movedBy(a.handle)) }, transfer: none };
      }
      case 'similar': {
        const rec: WasmRecommender = this.get(a.handle, 'recommender');
        return { value: this.withItems(rec, rec.similar(a.id, a.opts)), transfer: none };
      }
      case 'openProfile': {
        const p = (this.get(a.handle, 'recommender') as WasmRecommender).newProfile();
        try {
          p.recordMany(a.events);
        } catch (e) {
          p.free();
          throw e;
        }
        return { value: this.add('profile', p, this.handles.get(a.handle)!.build, { owner: a.handle, events: [...a.events] }), transfer: none };
      }
      case 'record': {
        // checked before anything is recorded: an item the bundle lacks, a kind without weight
        const p = this.get(a.profile, 'profile');
        const rec: WasmRecommender = this.get(this.handles.get(a.profile)!.owner!, 'recommender');
        if (rec.item(a.event.item) === undefined) {
          throw engineError('UNKNOWN_ITEM', `record: item '${a.event.item}' is not in this bundle; nothing was recorded`);
        }
        if (a.event.weight !== undefined && !(a.event.weight >= 0)) {
          throw engineError('ARGUMENT', `record: event on '${a.event.item}': weight ${a.event.weight} must be >= 0`);
        }
        if (a.event.weight === undefined) {
          let weights = this.weights.get(rec);
          if (!weights) {
            weights = (rec.info() as { foldIn?: { eventWeights?: Record<string, number> } }).foldIn?.eventWeights ?? {};
            this.weights.set(rec, weights);
          }
          if (!Object.hasOwn(weights, a.event.event)) {
            throw engineError('ARGUMENT', `record: event type '${a.event.event}' has no weight in this bundle (known: ${Object.keys(weights).join(', ')}); pass \`weight\``);
          }
        }
        const known = p.record(a.event);
        this.handles.get(a.profile)!.events?.push(a.event);
        return { value: known, transfer: none };
      }
      case 'unrecord': {
        // takes back an event the store refused: the profile is replayed without its last copy
        const p = this.get(a.profile, 'profile');
        const same = (e: { item: string; event: string; ts?: number }) => e.item === a.event.item && e.event === a.event.event && e.ts === a.event.ts;
        const events = p.events() as { item: string; event: string; ts?: number }[];
        const last = (list: typeof events) => { for (let j = list.length - 1; j >= 0; j--) if (same(list[j]!)) return j; return -1; };
        const i = last(events);
        if (i >= 0) {
          events.splice(i, 1);
          p.clear();
          p.recordMany(events);
        }
        const kept = this.handles.get(a.profile)!.events as typeof events | undefined;
        const k = kept ? last(kept) : -1;
        if (k >= 0) kept!.splice(k, 1);
        return { value: i >= 0, transfer: none };
      }
      case 'clearProfile': {
        this.get(a.profile, 'profile').clear();
        const e = this.handles.get(a.profile)!;
        if (e.events) e.events = [];
        return { value: undefined, transfer: none };
      }
      case 'loadTracer': {
        const bytes = new Uint8Array(a.bytes);
        const build = this.pick(true);
        const t = this.tracerClass(await this.load(build)).fromBytes(bytes);
        const handle = this.add('tracer', t, build, { bytes });
        this.handles.get(handle)!.fingerprint = await fingerprint(bytes);
        return { value: { handle, info: t.info(), questions: t.questions() }, transfer: none };
      }
      case 'openLearner': {
        // from scratch, or from a saved state (`saved`: { fingerprint, state }) when it was saved
        // for this very bundle and fits it; otherwise `{ restored: false }` and the caller
        // replays every answer instead
        const tracer = this.handles.get(a.handle)!;
        const t = this.get(a.handle, 'tracer') as WasmTracer;
        let l: WasmLearner;
        if (a.saved) {
          if (a.saved.fingerprint !== tracer.fingerprint) return { value: { restored: false, why: 'another bundle' }, transfer: none };
          try {
            l = t.restoreLearner(a.saved.state);
          } catch (e) {
            return { value: { restored: false, why: (e as Error).message }, transfer: none };
          }
        } else {
          l = t.newLearner();
        }
        let r: { applied: number; skipped: string[] };
        try {
          r = l.observeMany(a.answers);
        } catch (e) {
          l.free();
          throw e;
        }
        const h = this.add('learner', l, tracer.build, { owner: a.handle });
        const entry = this.handles.get(h)!;
        entry.base = a.saved?.state;
        entry.answers = [...a.answers];
        this.rebase(entry);
        return { value: { learner: h, skipped: r.skipped, answered: l.answered, restored: a.saved !== undefined }, transfer: none };
      }
      case 'observe': {
        const { obj, entry } = this.learner(a.learner);
        const value = obj.observe(a.answer.question, a.answer.correct, a.answer.ts);
        entry.answers!.push(a.answer);
        this.rebase(entry);
        return { value, transfer: none };
      }
      case 'unobserve': {
        // takes back an answer the store refused (the newest copy of it: answers other pages
        // stored may have come in after it): the learner is replayed without it
        const { obj, entry } = this.learner(a.learner);
        const list = entry.answers!;
        const same = (x: typeof a.answer) => x.question === a.answer.question && x.correct === a.answer.correct && x.ts === a.answer.ts;
        let i = list.length - 1;
        while (i >= 0 && !same(list[i]!)) i--;
        if (i < 0) return { value: false, transfer: none };
        list.splice(i, 1);
        entry.obj = this.replayLearner(entry);
        obj.free();
        return { value: true, transfer: none };
      }
      case 'learnerState': {
        // the state to save beside the stored answers; it becomes this learner's base too
        const { obj, entry } = this.learner(a.learner);
        const state = obj.exportState();
        entry.base = state;
        entry.answers = [];
        return { value: { fingerprint: this.handles.get(entry.owner!)!.fingerprint, state }, transfer: none };
      }
      case 'predict':
        return { value: this.learner(a.learner).obj.predict(a.question), transfer: none };
      case 'mastery':
        return { value: this.learner(a.learner).obj.mastery(), transfer: none };
      case 'next':
        return { value: this.learner(a.learner).obj.next(a.opts), transfer: none };
      case 'due':
        return { value: this.learner(a.learner).obj.due(a.now, a.all), transfer: none };
      case 'clearLearner': {
        const { obj, entry } = this.learner(a.learner);
        obj.clear();
        entry.base = undefined;
        entry.answers = [];
        return { value: undefined, transfer: none };
      }
      case 'free': {
        const e = this.handles.get(a.handle);
        if (e) {
          // a recommender's profiles go with it
          for (const [h, p] of this.handles) {
            if (p.owner === a.handle) {
              p.obj.free();
              this.handles.delete(h);
            }
          }
          e.predictor?.free();
          e.obj.free();
          this.handles.delete(a.handle);
        }
        return { value: undefined, transfer: none };
      }
      default:
        throw new TypeError(`op: unknown engine operation '${op}'`);
    }
  }
}

/** Where a session or recommender runs: `{ backend, backendReason? }` (the GPU build says why). */
export interface Placement {
  backend: 'cpu' | 'webgpu';
  backendReason?: string;
}

function placement(x: { backend?: string; backendProbe?: unknown; fallbackReason?: string | null }): Placement {
  const backend = x.backend === 'webgpu' ? 'webgpu' : 'cpu';
  const reason = x.fallbackReason ?? (x.backendProbe as { reason?: string } | null | undefined)?.reason;
  return reason ? { backend, backendReason: reason } : { backend };
}

/**
 * After a run on the GPU build: where the session or recommender runs now, when a lost device
 * moved it to the CPU; otherwise nothing (its placement is the one reported at load).
 */
function moved(x: { backend?: string; fallbackReason?: string | null }): Partial<Placement> {
  return x.fallbackReason ? { backend: x.backend === 'webgpu' ? 'webgpu' : 'cpu', backendReason: x.fallbackReason } : {};
}
