/**
 * Where a profile's interactions live: one IndexedDB database per recommender
 * (`hearth-ml-profile:<name>`, object store `events`), or memory where IndexedDB does not exist
 * (Node). A tracer's learner keeps its answers the same way (`hearth-ml-learner:<name>:<id>`).
 * Nothing else is written anywhere.
 *
 * Every write is one transaction that has completed (`durability: 'strict'`) before the call
 * resolves, and a failed write rejects with `HearthError` `STORAGE`. Events are only ever added
 * under fresh keys, so pages (tabs) recording into one profile at once lose nothing. A long
 * history is compacted in one transaction, by the write that makes it long and on open: the
 * oldest events become one summary event per item (see {@link compactEvents}), which folds into
 * the same profile.
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

/**
 * Compacts a history (oldest first): its first `replace` events become `summary` (no longer than
 * them); `undefined` when it needs no compaction.
 */
export type Compactor = (events: StoredEvent[]) => { replace: number; summary: StoredEvent[] } | undefined;

export interface ProfileStore<T = StoredEvent> {
  /** `'indexeddb'` or `'memory'`. */
  readonly kind: string;
  all(): Promise<T[]>;
  /** Adds an event; resolves with its key once stored. Keys ascend across every page. */
  add(e: T): Promise<number>;
  /**
   * Reads the history and, when `compact` returns a shorter one for it, replaces the history
   * with that, in one transaction (so an event another page adds is never lost). Returns the
   * history as stored afterwards and the newest key it holds (0 for none): an event with a
   * greater key was added after this read.
   */
  compact(compact: (events: T[]) => { replace: number; summary: T[] } | undefined): Promise<Snapshot<T>>;
  /** Removes every trace: the IndexedDB database itself is deleted. */
  clear(): Promise<void>;
}

/** A store's history as one read saw it. */
export interface Snapshot<T> {
  events: T[];
  lastKey: number;
}

/** Histories longer than this are compacted when a profile is opened. */
export const COMPACT_AT = 5000;
/**
 * Histories longer than this are compacted by the `record` that makes them so (keeping the
 * newest {@link KEEP_RECENT_ON_WRITE}), so a store never holds more than this many events plus
 * one summary per item, and opening it never has a long history to read (a 100,000-event history written by an older version is compacted
 * once, on open, at {@link COMPACT_AT}).
 */
export const COMPACT_ON_WRITE_AT = 1000;
/** How many of the newest events a compaction on write keeps as they are. */
export const KEEP_RECENT_ON_WRITE = 500;
/** How many of the newest events a compaction keeps as they are. */
export const KEEP_RECENT = 1000;

/** The bundle's fold-in parameters a summary needs. */
export interface FoldIn {
  halfLifeDays?: number | null;
  eventWeights?: Record<string, number>;
}

/**
 * The history with its oldest events (all but the newest {@link KEEP_RECENT}) folded into one
 * summary event per item: `{ item, event: 'summary', weight, ts, count }` at the time `T` of the
 * newest summarized event, with `weight = Σ w · 2^((t − T) / h)` over the item's events (`h` the
 * bundle's half-life; without one, `Σ w`). The engine weighs an event at `t` by `w · 2^(t / h)`
 * up to a common factor, so the summary adds exactly what its events did. Events of a kind
 * without a weight (which the engine would reject) are dropped. `undefined` below
 * {@link COMPACT_AT} events.
 */
export function compactEvents(
  events: StoredEvent[], foldIn: FoldIn | undefined, at = COMPACT_AT, keep = KEEP_RECENT,
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

const memory = new Map<string, StoredEvent[]>();
const memoryKeys = new Map<string, number>();

export class MemoryProfileStore implements ProfileStore {
  readonly kind = 'memory';
  private readonly name: string;
  constructor(name: string, kind: 'profile' | 'learner' = 'profile') {
    this.name = storeName(name, kind);
  }
  async all(): Promise<StoredEvent[]> {
    return [...(memory.get(this.name) ?? [])];
  }
  async add(e: StoredEvent): Promise<number> {
    const list = memory.get(this.name) ?? [];
    list.push(e);
    memory.set(this.name, list);
    const key = (memoryKeys.get(this.name) ?? 0) + 1;
    memoryKeys.set(this.name, key);
    return key;
  }
  async compact(compact: Compactor): Promise<Snapshot<StoredEvent>> {
    const events = await this.all();
    const c = compact(events);
    if (c) memory.set(this.name, [...c.summary, ...events.slice(c.replace)]);
    return { events: await this.all(), lastKey: memoryKeys.get(this.name) ?? 0 };
  }
  async clear(): Promise<void> {
    memory.delete(this.name);
    memoryKeys.delete(this.name);
  }
}

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException('the transaction was aborted', 'AbortError'));
  });
}

/** One open connection per database in this realm, so `clear()` can close it before deleting. */
const connections = new Map<string, Promise<IDBDatabase>>();

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
        const r = indexedDB.open(this.dbName, 1);
        r.onupgradeneeded = () => r.result.createObjectStore('events', { autoIncrement: true });
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

  private async tx(mode: IDBTransactionMode): Promise<IDBTransaction> {
    const db = await this.db();
    return db.transaction('events', mode, mode === 'readwrite' ? { durability: 'strict' } : undefined);
  }

  async all(): Promise<StoredEvent[]> {
    try {
      const tx = await this.tx('readonly');
      return await req(tx.objectStore('events').getAll() as IDBRequest<StoredEvent[]>);
    } catch (e) {
      throw new HearthError('STORAGE', `profile: IndexedDB ${this.dbName} could not be read (${e instanceof Error ? `${e.name}: ${e.message}` : e})`, { cause: e });
    }
  }

  private async read(): Promise<Snapshot<StoredEvent>> {
    try {
      const tx = await this.tx('readonly');
      const store = tx.objectStore('events');
      const [events, keys] = await Promise.all([req(store.getAll() as IDBRequest<StoredEvent[]>), req(store.getAllKeys())]);
      return { events, lastKey: (keys.at(-1) as number | undefined) ?? 0 };
    } catch (e) {
      throw new HearthError('STORAGE', `profile: IndexedDB ${this.dbName} could not be read (${e instanceof Error ? `${e.name}: ${e.message}` : e})`, { cause: e });
    }
  }

  async add(e: StoredEvent): Promise<number> {
    try {
      const tx = await this.tx('readwrite');
      const finished = done(tx);
      const r = tx.objectStore('events').add(e);
      await finished;
      return r.result as number;
    } catch (err) {
      throw storageError('record', err);
    }
  }

  async compact(compact: Compactor): Promise<Snapshot<StoredEvent>> {
    // the usual case first: a read-only transaction, and nothing to compact
    const read = await this.read();
    if (!compact(read.events)) return read;
    let result: StoredEvent[] = [];
    let lastKey = 0;
    try {
      const tx = await this.tx('readwrite');
      const finished = done(tx);
      const store = tx.objectStore('events');
      // read, decide and write in this one transaction (plain callbacks keep it active): no
      // other page's write can come in between
      const keys = store.getAllKeys();
      keys.onsuccess = () => {
        const all = store.getAll() as IDBRequest<StoredEvent[]>;
        all.onsuccess = () => {
          const events = all.result;
          lastKey = (keys.result.at(-1) as number | undefined) ?? 0;
          const c = compact(events);
          result = events;
          if (!c) return;
          // the head's keys, in order: the summary takes the first, the rest are deleted
          c.summary.forEach((e, i) => store.put(e, keys.result[i]));
          // keys ascend, so the rest of the head is one key range (deleting key by key took seconds)
          if (c.replace > c.summary.length) {
            store.delete(IDBKeyRange.bound(keys.result[c.summary.length], keys.result[c.replace - 1]));
          }
          result = [...c.summary, ...events.slice(c.replace)];
        };
      };
      await finished;
    } catch (e) {
      throw storageError('profile (compacting the history)', e);
    }
    return { events: result, lastKey };
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
