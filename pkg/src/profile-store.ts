/**
 * Where a profile's interactions live: one IndexedDB database per recommender
 * (`hearth-ml-profile:<name>`, version 2: object stores `events` and `state`), or memory where
 * IndexedDB does not exist (Node). A tracer's learner keeps its answers the same way
 * (`hearth-ml-learner:<name>:<id>`). Nothing else is written anywhere.
 *
 * Every write is one transaction that has completed (`durability: 'strict'`) before the call
 * resolves, and a failed write rejects with `HearthError` `STORAGE`. Events are only ever added
 * under fresh keys (`events`, one record each: "loose"), so pages (tabs) recording into one
 * profile at once lose nothing. A profile's history is kept mostly as one record (`state`
 * `'pack'`: its events up to a key), because IndexedDB reads records one at a time: every
 * {@link PACK_AT} loose events move into the pack in one transaction, and a pack that grows long
 * is compacted there: its oldest events become one summary event per item (see
 * {@link compactEvents}), which folds into the same profile. A learner keeps every answer loose
 * and a saved engine state in `state` (see tracer.ts).
 * Not part of the public API.
 * @packageDocumentation
 */
import { HearthError } from './errors.js';
import type { InteractionEvent } from './types.js';

export interface StoredEvent extends InteractionEvent {
  ts: number;
  /** On a summary event: how many events it stands for. */
  count?: number;
}

export interface ProfileStore<T = StoredEvent> {
  /** `'indexeddb'` or `'memory'`. */
  readonly kind: string;
  /** The whole history, oldest first: the packed events, then the loose ones. */
  all(): Promise<T[]>;
  /** Adds an event (a loose one); resolves with its key once stored. Keys ascend across every page. */
  add(e: T): Promise<number>;
  /**
   * Reads the history for opening it: the pack (one record) and the loose events after it. With
   * more than {@link PACK_AT} loose events (a long session, or a history an older version wrote
   * event by event) it packs them first ({@link ProfileStore.pack}), reading them only there.
   */
  open(compact: Compactor<T>): Promise<Snapshot<T>>;
  /**
   * Moves the loose events into the pack, compacted by `compact` (when it returns a shorter
   * history), in one transaction: an event another page adds meanwhile is either in it or
   * stays loose, never lost.
   */
  pack(compact: Compactor<T>): Promise<Snapshot<T>>;
  /**
   * The loose events with keys after `after` (a key a saved state covers), the newest key, how
   * many loose events lie at or before `after`, and the one at `after`: what a learner saved at
   * `after` needs to check that the store is the one it was saved from.
   */
  tail(after: number): Promise<Tail<T>>;
  /** A value kept beside the events (`'pack'` is the profile's pack); `undefined` when none. */
  getState<S>(key: string): Promise<S | undefined>;
  /** Keeps a value beside the events (one transaction, completed before this resolves). */
  putState(key: string, value: unknown): Promise<void>;
  /** Removes every trace: the IndexedDB database itself is deleted. */
  clear(): Promise<void>;
}

/**
 * Compacts a history (oldest first): its first `replace` events become `summary` (no longer than
 * them); `undefined` when it needs no compaction.
 */
export type Compactor<T = StoredEvent> = (events: T[]) => { replace: number; summary: T[] } | undefined;

/** A store's history as one read saw it. */
export interface Snapshot<T> {
  events: T[];
  /** The newest key the read saw (0 for none): an event with a greater key was added after it. */
  lastKey: number;
  /** How many of `events` are loose (not packed). */
  loose: number;
}

/** The loose events after a key, see {@link ProfileStore.tail}. */
export interface Tail<T> {
  events: T[];
  lastKey: number;
  /** Loose events at or before `after`. */
  before: number;
  /** The loose event at `after`, if any. */
  at: T | undefined;
}

/** The profile's pack: its history up to key `upTo`, as one record. */
interface Pack<T> {
  events: T[];
  upTo: number;
}

/**
 * Loose events beyond which the `record` that adds one packs them (and opening a profile packs
 * first). IndexedDB reads records one by one: 1,300 small records took 19–112 ms to read in
 * Chromium under load, the same events as one record 1.5–2 ms.
 */
export const PACK_AT = 100;
/**
 * A pack longer than this is compacted when events are packed into it, keeping the newest
 * {@link KEEP_RECENT_ON_WRITE} as they are: a store never holds more than this many events plus
 * one summary per item and {@link PACK_AT} loose ones.
 */
export const COMPACT_ON_WRITE_AT = 1000;
/** How many of the newest events a compaction keeps as they are. */
export const KEEP_RECENT_ON_WRITE = 500;

/** The bundle's fold-in parameters a summary needs. */
export interface FoldIn {
  halfLifeDays?: number | null;
  eventWeights?: Record<string, number>;
}

/**
 * The history with its oldest events (all but the newest `keep`) folded into one
 * summary event per item: `{ item, event: 'summary', weight, ts, count }` at the time `T` of the
 * newest summarized event, with `weight = Σ w · 2^((t − T) / h)` over the item's events (`h` the
 * bundle's half-life; without one, `Σ w`). The engine weighs an event at `t` by `w · 2^(t / h)`
 * up to a common factor, so the summary adds exactly what its events did. Events of a kind
 * without a weight (which the engine would reject) are dropped. `undefined` for histories of
 * at most `at` events.
 */
export function compactEvents(
  events: StoredEvent[], foldIn: FoldIn | undefined, at = COMPACT_ON_WRITE_AT, keep = KEEP_RECENT_ON_WRITE,
): { replace: number; summary: StoredEvent[] } | undefined {
  if (events.length <= at) return undefined;
  const replace = events.length - keep;
  let t = -Infinity;
  for (let i = 0; i < replace; i++) t = Math.max(t, events[i]!.ts);
  const h = foldIn?.halfLifeDays ? foldIn.halfLifeDays * 86_400_000 : undefined;
  const sums = new Map<string, StoredEvent & { weight: number; count: number }>();
  for (let i = 0; i < replace; i++) {
    const e = events[i]!;
    const w = e.weight ?? foldIn?.eventWeights?.[e.event];
    if (w === undefined) continue;
    let s = sums.get(e.item);
    if (!s) sums.set(e.item, (s = { item: e.item, event: 'summary', weight: 0, ts: t, count: 0 }));
    s.weight += h ? w * 2 ** ((e.ts - t) / h) : w;
    s.count += e.count ?? 1;
  }
  return { replace, summary: [...sums.values()] };
}

function storageError(what: string, e: unknown): HearthError {
  const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new HearthError('STORAGE', `${what}: IndexedDB refused the write (${why}); nothing was recorded`, { cause: e });
}

/**
 * The database (IndexedDB) or memory key of a store: `hearth-ml-profile:<name>` for a
 * recommender's profile, `hearth-ml-learner:<name>` for a tracer's learner.
 */
export function storeName(name: string, kind: 'profile' | 'learner' = 'profile'): string {
  return `hearth-ml-${kind}:${name}`;
}

/** The pack with `loose` (oldest first, newest key `lastKey`) moved into it and compacted. */
function packed<T>(pack: Pack<T>, loose: T[], lastKey: number, compact: Compactor<T>): Pack<T> {
  const events = [...pack.events, ...loose];
  const c = compact(events);
  return { events: c ? [...c.summary, ...events.slice(c.replace)] : events, upTo: Math.max(pack.upTo, lastKey) };
}

interface MemoryStore {
  pack: Pack<StoredEvent>;
  loose: { key: number; e: StoredEvent }[];
  lastKey: number;
  state: Map<string, unknown>;
}
const memory = new Map<string, MemoryStore>();

export class MemoryProfileStore implements ProfileStore {
  readonly kind = 'memory';
  private readonly name: string;
  constructor(name: string, kind: 'profile' | 'learner' = 'profile') {
    this.name = storeName(name, kind);
  }
  private get m(): MemoryStore {
    let m = memory.get(this.name);
    if (!m) memory.set(this.name, (m = { pack: { events: [], upTo: 0 }, loose: [], lastKey: 0, state: new Map() }));
    return m;
  }
  async all(): Promise<StoredEvent[]> {
    return [...this.m.pack.events, ...this.m.loose.map((l) => l.e)];
  }
  async add(e: StoredEvent): Promise<number> {
    const m = this.m;
    m.loose.push({ key: ++m.lastKey, e });
    return m.lastKey;
  }
  async open(compact: Compactor): Promise<Snapshot<StoredEvent>> {
    if (this.m.loose.length > PACK_AT) return this.pack(compact);
    return { events: await this.all(), lastKey: this.m.lastKey, loose: this.m.loose.length };
  }
  async pack(compact: Compactor): Promise<Snapshot<StoredEvent>> {
    const m = this.m;
    m.pack = packed(m.pack, m.loose.map((l) => l.e), m.loose.at(-1)?.key ?? 0, compact);
    m.loose = [];
    return { events: [...m.pack.events], lastKey: m.lastKey, loose: 0 };
  }
  async tail(after: number): Promise<Tail<StoredEvent>> {
    const m = this.m;
    return {
      events: m.loose.filter((l) => l.key > after).map((l) => l.e),
      lastKey: m.lastKey,
      before: m.loose.filter((l) => l.key <= after).length,
      at: m.loose.find((l) => l.key === after)?.e,
    };
  }
  async getState<S>(key: string): Promise<S | undefined> {
    return structuredClone(this.m.state.get(key)) as S | undefined;
  }
  async putState(key: string, value: unknown): Promise<void> {
    this.m.state.set(key, structuredClone(value));
  }
  async clear(): Promise<void> {
    memory.delete(this.name);
  }
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException('the transaction was aborted', 'AbortError'));
  });
}

/** The keys after `after` (all keys for 0). */
function after(key: number): IDBKeyRange | undefined {
  return key > 0 ? IDBKeyRange.lowerBound(key, true) : undefined;
}

/** The newest key of `range` in `store` (`fallback` when it is empty), read in the same transaction. */
function newestKey(store: IDBObjectStore, range: IDBKeyRange | undefined, fallback: number, then: (key: number) => void): void {
  const c = store.openKeyCursor(range, 'prev');
  c.onsuccess = () => then((c.result?.key as number | undefined) ?? fallback);
}

/** One open connection per database in this realm, so `clear()` can close it before deleting. */
const connections = new Map<string, Promise<IDBDatabase>>();

/** The database version: 1 had `events` only; 2 adds `state` (the pack, a learner's saved state). */
const DB_VERSION = 2;

export class IdbProfileStore implements ProfileStore {
  readonly kind = 'indexeddb';
  readonly dbName: string;

  constructor(name: string, kind: 'profile' | 'learner' = 'profile') {
    this.dbName = storeName(name, kind);
  }

  private db(): Promise<IDBDatabase> {
    let c = connections.get(this.dbName);
    if (!c) {
      c = new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open(this.dbName, DB_VERSION);
        r.onupgradeneeded = () => {
          // from nothing, or from version 1 (its events stay loose: the first open packs them)
          const db = r.result;
          if (!db.objectStoreNames.contains('events')) db.createObjectStore('events', { autoIncrement: true });
          if (!db.objectStoreNames.contains('state')) db.createObjectStore('state');
        };
        r.onsuccess = () => {
          const db = r.result;
          // another tab clearing the profile: let it delete the database
          db.onversionchange = () => {
            db.close();
            connections.delete(this.dbName);
          };
          // the browser closed it (storage cleared, disk error): reopen on the next call
          db.onclose = () => connections.delete(this.dbName);
          resolve(db);
        };
        r.onerror = () => reject(r.error);
        r.onblocked = () => reject(new DOMException(`${this.dbName} is blocked by another tab`, 'InvalidStateError'));
      });
      c.catch(() => connections.delete(this.dbName));
      connections.set(this.dbName, c);
    }
    return c;
  }

  private async tx(stores: string[], mode: IDBTransactionMode): Promise<IDBTransaction> {
    const db = await this.db();
    return db.transaction(stores, mode, mode === 'readwrite' ? { durability: 'strict' } : undefined);
  }

  /** Runs `body` in one transaction (plain callbacks keep it active) and resolves with what it set once the transaction completed. */
  private async run<R>(stores: string[], mode: IDBTransactionMode, body: (tx: IDBTransaction, set: (r: R) => void) => void): Promise<R> {
    const tx = await this.tx(stores, mode);
    const finished = done(tx);
    let result: R | undefined;
    body(tx, (r) => { result = r; });
    await finished;
    return result as R;
  }

  private readError(e: unknown): HearthError {
    return new HearthError('STORAGE', `profile: IndexedDB ${this.dbName} could not be read (${e instanceof Error ? `${e.name}: ${e.message}` : e})`, { cause: e });
  }

  async all(): Promise<StoredEvent[]> {
    try {
      return await this.run<StoredEvent[]>(['events', 'state'], 'readonly', (tx, set) => {
        const p = tx.objectStore('state').get('pack') as IDBRequest<Pack<StoredEvent> | undefined>;
        const l = tx.objectStore('events').getAll() as IDBRequest<StoredEvent[]>;
        l.onsuccess = () => set([...(p.result?.events ?? []), ...l.result]);
      });
    } catch (e) {
      throw this.readError(e);
    }
  }

  async add(e: StoredEvent): Promise<number> {
    try {
      const tx = await this.tx(['events'], 'readwrite');
      const finished = done(tx);
      const r = tx.objectStore('events').add(e);
      await finished;
      return r.result as number;
    } catch (err) {
      throw storageError('record', err);
    }
  }

  async open(compact: Compactor): Promise<Snapshot<StoredEvent>> {
    let snap: Snapshot<StoredEvent> | undefined;
    try {
      // one read-only transaction: the pack, how many loose events follow it, and (when few) them
      snap = await this.run<Snapshot<StoredEvent> | undefined>(['events', 'state'], 'readonly', (tx, set) => {
        const events = tx.objectStore('events');
        const p = tx.objectStore('state').get('pack') as IDBRequest<Pack<StoredEvent> | undefined>;
        p.onsuccess = () => {
          const pack = p.result ?? { events: [], upTo: 0 };
          const range = after(pack.upTo);
          const n = events.count(range);
          n.onsuccess = () => {
            // many loose events: packed in a read-write transaction, read there once
            if (n.result > PACK_AT) return;
            const loose = events.getAll(range) as IDBRequest<StoredEvent[]>;
            newestKey(events, range, pack.upTo, (lastKey) => set({ events: [...pack.events, ...loose.result], lastKey, loose: loose.result.length }));
          };
        };
      });
    } catch (e) {
      throw this.readError(e);
    }
    return snap ?? this.pack(compact);
  }

  async pack(compact: Compactor): Promise<Snapshot<StoredEvent>> {
    try {
      return await this.run<Snapshot<StoredEvent>>(['events', 'state'], 'readwrite', (tx, set) => {
        const events = tx.objectStore('events');
        const state = tx.objectStore('state');
        const p = state.get('pack') as IDBRequest<Pack<StoredEvent> | undefined>;
        p.onsuccess = () => {
          const pack = p.result ?? { events: [], upTo: 0 };
          const range = after(pack.upTo);
          const loose = events.getAll(range) as IDBRequest<StoredEvent[]>;
          newestKey(events, range, pack.upTo, (lastKey) => {
            if (loose.result.length === 0) {
              set({ events: pack.events, lastKey, loose: 0 });
              return;
            }
            const next = packed(pack, loose.result, lastKey, compact);
            state.put(next, 'pack');
            // keys ascend: the packed events are one key range (deleting key by key took seconds)
            events.delete(IDBKeyRange.upperBound(lastKey));
            set({ events: next.events, lastKey, loose: 0 });
          });
        };
      });
    } catch (e) {
      throw storageError('profile (packing the history)', e);
    }
  }

  async tail(key: number): Promise<Tail<StoredEvent>> {
    try {
      return await this.run<Tail<StoredEvent>>(['events'], 'readonly', (tx, set) => {
        const events = tx.objectStore('events');
        const range = after(key);
        const before = key > 0 ? events.count(IDBKeyRange.upperBound(key)) : undefined;
        const at = key > 0 ? (events.get(key) as IDBRequest<StoredEvent | undefined>) : undefined;
        const list = events.getAll(range) as IDBRequest<StoredEvent[]>;
        newestKey(events, range, key, (lastKey) => set({ events: list.result, lastKey, before: before?.result ?? 0, at: at?.result }));
      });
    } catch (e) {
      throw this.readError(e);
    }
  }

  async getState<S>(key: string): Promise<S | undefined> {
    try {
      return await this.run<S | undefined>(['state'], 'readonly', (tx, set) => {
        const r = tx.objectStore('state').get(key);
        r.onsuccess = () => set(r.result as S | undefined);
      });
    } catch (e) {
      throw this.readError(e);
    }
  }

  async putState(key: string, value: unknown): Promise<void> {
    try {
      await this.run<void>(['state'], 'readwrite', (tx) => {
        tx.objectStore('state').put(value, key);
      });
    } catch (e) {
      throw storageError(`profile (saving '${key}')`, e);
    }
  }

  async clear(): Promise<void> {
    const c = connections.get(this.dbName);
    connections.delete(this.dbName);
    if (c) (await c.catch(() => undefined))?.close();
    await new Promise<void>((resolve, reject) => {
      const r = indexedDB.deleteDatabase(this.dbName);
      r.onsuccess = () => resolve();
      r.onerror = () => reject(r.error);
    });
  }
}
