/**
 * How the page side reaches the engine: a module Web Worker (default in browsers) or an engine on
 * the calling thread. Calls carry a worker generation: after a crash the worker is restarted
 * lazily, the calls pending in the dead one reject with `WORKER_CRASHED`, and so do later calls on
 * handles that lived in it.
 * Not part of the public API.
 * @packageDocumentation
 */
import { HearthError, fromWire, toWire, type WireError } from './errors.js';
import type { Engine } from './engine.js';

export interface Transport {
  /** Generation of the current worker (0 inline); handles remember the one they were made in. */
  readonly generation: number;
  call<T>(op: string, args: unknown, transfer?: Transferable[], generation?: number): Promise<T>;
  close(): void;
}

export class InlineTransport implements Transport {
  readonly generation = 0;
  constructor(private readonly engine: Engine) {}

  async call<T>(op: string, args: unknown): Promise<T> {
    try {
      return (await this.engine.call(op, args)).value as T;
    } catch (e) {
      if (e instanceof HearthError) throw e;
      throw fromWire(toWire(e));
    }
  }

  close(): void {
    this.engine.close();
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export class WorkerTransport implements Transport {
  private worker: Worker | undefined;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private gen = 0;
  private closed = false;
  /** The `init` call's arguments, replayed to a restarted worker. */
  private initArgs: unknown;

  /** `start` makes a new worker (the platform knows the worker script's URL). */
  constructor(private readonly start: () => Worker) {}

  get generation(): number {
    return this.gen;
  }

  private ensure(op: string): Worker {
    if (this.worker) return this.worker;
    const w = this.start();
    // a restarted worker starts the same backend first (messages are handled in order)
    if (op !== 'init' && this.initArgs !== undefined) w.postMessage({ id: 0, op: 'init', args: this.initArgs });
    w.onmessage = (ev: MessageEvent) => {
      const m = ev.data as { id?: number; ok?: boolean; value?: unknown; error?: WireError; fatal?: WireError };
      if (m.fatal) {
        this.crash(`the wasm engine trapped (${m.fatal.message})`);
        return;
      }
      const p = this.pending.get(m.id!);
      if (!p) return;
      this.pending.delete(m.id!);
      if (m.ok) p.resolve(m.value);
      else p.reject(fromWire(m.error!));
    };
    w.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.crash(ev.message || 'the worker failed to start');
    };
    w.onmessageerror = () => this.crash('a message from the worker could not be read');
    this.worker = w;
    return w;
  }

  /** Ends the current worker; its pending calls reject, the next call starts a new one. */
  private crash(reason: string): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.gen++;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new HearthError('WORKER_CRASHED', `the hearth-ml worker crashed: ${reason}; it restarts on the next call`));
  }

  call<T>(op: string, args: unknown, transfer: Transferable[] = [], generation?: number): Promise<T> {
    if (this.closed) return Promise.reject(new HearthError('DISPOSED', 'this Hearth instance was disposed'));
    if (generation !== undefined && generation !== this.gen) {
      return Promise.reject(new HearthError('WORKER_CRASHED', 'this object lived in a worker that crashed; load it again'));
    }
    if (op === 'init') this.initArgs = args;
    const w = this.ensure(op);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        w.postMessage({ id, op, args }, transfer);
      } catch (e) {
        this.pending.delete(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  close(): void {
    this.closed = true;
    this.worker?.terminate();
    this.worker = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new HearthError('DISPOSED', 'this Hearth instance was disposed'));
  }
}
