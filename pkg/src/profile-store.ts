/**
 * Where a profile's interactions live: one IndexedDB database per recommender
 * (`hearth-ml-profile:<name>`, object store `events`), or memory where IndexedDB does not exist
 * (Node). Nothing else is written anywhere.
 * Not part of the public API.
 * @packageDocumentation
 */
import type { InteractionEvent } from './types.js';

export interface StoredEvent extends InteractionEvent {
  ts: number;
}

export interface ProfileStore {
  /** `'indexeddb'` or `'memory'`. */
  readonly kind: string;
  all(): Promise<StoredEvent[]>;
  add(e: StoredEvent): Promise<void>;
  /** Removes every trace: the IndexedDB database itself is deleted. */
  clear(): Promise<void>;
}

const memory = new Map<string, StoredEvent[]>();

export class MemoryProfileStore implements ProfileStore {
  readonly kind = 'memory';
  constructor(private readonly name: string) {}
  async all(): Promise<StoredEvent[]> {
    return [...(memory.get(this.name) ?? [])];
  }
  async add(e: StoredEvent): Promise<void> {
    const list = memory.get(this.name) ?? [];
    list.push(e);
    memory.set(this.name, list);
  }
  async clear(): Promise<void> {
    memory.delete(this.name);
  }
}

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** One open connection per database in this realm, so `clear()` can close it before deleting. */
const connections = new Map<string, Promise<IDBDatabase>>();

export class IdbProfileStore implements ProfileStore {
  readonly kind = 'indexeddb';
  readonly dbName: string;

  constructor(name: string) {
    this.dbName = `hearth-ml-profile:${name}`;
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
          resolve(db);
        };
        r.onerror = () => reject(r.error);
      });
      c.catch(() => connections.delete(this.dbName));
      connections.set(this.dbName, c);
    }
    return c;
  }

  async all(): Promise<StoredEvent[]> {
    const db = await this.db();
    return req(db.transaction('events', 'readonly').objectStore('events').getAll() as IDBRequest<StoredEvent[]>);
  }

  async add(e: StoredEvent): Promise<void> {
    const db = await this.db();
    const tx = db.transaction('events', 'readwrite');
    tx.objectStore('events').add(e);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
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

