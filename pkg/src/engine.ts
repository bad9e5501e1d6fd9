/**
 * The engine side: owns the wasm instance and every handle (sessions, recommenders, profiles).
 * It runs inside the worker (worker.ts) or inline on the calling thread; either way it is driven
 * by the same operations, so both paths behave alike.
 * Not part of the public API.
 * @packageDocumentation
 */
import init, * as glue from '../wasm/hearth-cpu.js';

/** What the engine answers: a value and the buffers that may be moved with it. */
export interface Reply {
  value: unknown;
  transfer: Transferable[];
}

type WasmTensor = { data: ArrayBufferView & { buffer: ArrayBufferLike }; dims: number[]; type: string };

/** The contract of the wasm `Recommender` (src/wasm, recommendation engine). */
interface WasmRecommender {
  info(): unknown;
  item(id: string): unknown;
  recommend(opts: unknown): Array<{ id: string; score: number; item?: unknown; because: string[] }>;
  similar(id: string, opts: unknown): Array<{ id: string; score: number; item?: unknown }>;
  newProfile(): WasmProfile;
  free(): void;
}
interface WasmProfile {
  record(event: unknown): boolean;
  recordMany(events: unknown[]): number;
  recommend(opts: unknown): Array<{ id: string; score: number; item?: unknown; because: string[] }>;
  clear(): void;
  free(): void;
}
interface WasmRecommenderClass {
  fromBytes(bytes: Uint8Array): WasmRecommender;
}

function engineError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The wasm's default location, next to the package's `dist/`. */
export function defaultWasmUrl(): URL {
  return new URL('../wasm/hearth-cpu_bg.wasm', import.meta.url);
}

export class Engine {
  private ready: Promise<void> | undefined;
  private readonly handles = new Map<number, { kind: string; obj: any; owner?: number }>();
  private next = 1;

  /** `wasm` is where the wasm comes from: a URL, or its bytes (Node). */
  constructor(private readonly wasm: URL | string | BufferSource = defaultWasmUrl()) {}

  private start(): Promise<void> {
    this.ready ??= init({ module_or_path: this.wasm }).then(
      () => undefined,
      (e: unknown) => {
        this.ready = undefined; // a later call may try again
        throw engineError('BACKEND_UNAVAILABLE', `the CPU wasm could not start: ${e instanceof Error ? e.message : e}`);
      },
    );
    return this.ready;
  }

  private add(kind: string, obj: unknown, owner?: number): number {
    const h = this.next++;
    this.handles.set(h, { kind, obj, owner });
    return h;
  }

  private get(h: number, kind: string): any {
    const e = this.handles.get(h);
    if (!e || e.kind !== kind) throw engineError('DISPOSED', `this ${kind} was disposed`);
    return e.obj;
  }

  private recommenderClass(): WasmRecommenderClass {
    // looked up at run time: builds without the recommender export no such class
    const cls = Reflect.get(glue, 'Recommender') as WasmRecommenderClass | undefined;
    if (!cls) throw engineError('UNSUPPORTED', 'this build of hearth-ml has no recommender engine (its wasm exports no Recommender)');
    return cls;
  }

  /** Results carry the item's metadata (the wasm adds it; looked up here if it did not). */
  private withItems<T extends { id: string; item?: unknown }>(rec: WasmRecommender, list: T[]): T[] {
    for (const r of list) if (r.item === undefined) r.item = rec.item(r.id) ?? undefined;
    return list;
  }

  /** Runs one operation. Errors are thrown as the engine raised them. */
  async call(op: string, a: any): Promise<Reply> {
    await this.start();
    const none: Transferable[] = [];
    switch (op) {
      case 'init':
        return { value: { backend: 'cpu' }, transfer: none };
      case 'loadModel': {
        const external = (a.external ?? []).map(([n, b]: [string, ArrayBuffer]) => [n, new Uint8Array(b)]);
        const s = glue.Session.fromBytes(new Uint8Array(a.bytes), external.length ? external : undefined);
        const value = { handle: this.add('model', s), inputs: s.inputs, outputs: s.outputs, backend: s.backend };
        return { value, transfer: none };
      }
      case 'run': {
        const out = this.get(a.handle, 'model').run(a.feeds) as Record<string, WasmTensor>;
        const transfer: Transferable[] = [];
        for (const t of Object.values(out)) transfer.push(t.data.buffer as ArrayBuffer);
        return { value: out, transfer };
      }
      case 'loadRecommender': {
        const r = this.recommenderClass().fromBytes(new Uint8Array(a.bytes));
        return { value: { handle: this.add('recommender', r), info: r.info() }, transfer: none };
      }
      case 'item':
        return { value: this.get(a.handle, 'recommender').item(a.id) ?? undefined, transfer: none };
      case 'recommend': {
        const rec: WasmRecommender = this.get(a.handle, 'recommender');
        const list = a.profile !== undefined
          ? (this.get(a.profile, 'profile') as WasmProfile).recommend(a.opts)
          : rec.recommend(a.opts);
        return { value: this.withItems(rec, list), transfer: none };
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
        return { value: this.add('profile', p, a.handle), transfer: none };
      }
      case 'record':
        return { value: this.get(a.profile, 'profile').record(a.event), transfer: none };
      case 'clearProfile':
        this.get(a.profile, 'profile').clear();
        return { value: undefined, transfer: none };
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
