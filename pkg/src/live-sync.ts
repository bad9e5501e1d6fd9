/**
 * Live sync between pages (tabs, windows, workers) that have one profile or learner open: each
 * event a page stores is announced on a `BroadcastChannel` named after the store
 * (`hearth-ml-profile:<name>`, `hearth-ml-learner:<name>:<id>`), with the key the store gave
 * it, and every other open copy applies it to its engine state, so it sees the event without a
 * reload. Nothing leaves the device: a `BroadcastChannel` reaches only same-origin pages of this
 * browser.
 *
 * No event is lost or applied twice: a copy listens before it reads the store, and applies an
 * announced event only when its key is newer than the newest key of that read (keys ascend
 * across pages, so an event is either in the read or announced after it, never both). Events
 * are applied one at a time, in the order they arrive. Clearing is announced too.
 * Not part of the public API.
 * @packageDocumentation
 */

type Message<T> = { kind: 'add'; key: number; value: T } | { kind: 'clear' };

export class LiveSync<T> {
  private readonly channel: BroadcastChannel | undefined;
  private pending: Message<T>[] | undefined = [];
  private lastKey = 0;
  private apply: ((m: Message<T>) => Promise<void>) | undefined;
  private queue: Promise<void> = Promise.resolve();

  /** Starts listening (buffering until {@link start}); a no-op where `BroadcastChannel` is missing. */
  constructor(name: string) {
    if (typeof BroadcastChannel !== 'function') return;
    this.channel = new BroadcastChannel(name);
    // Node: the channel must not keep the process alive
    (this.channel as unknown as { unref?: () => void }).unref?.();
    this.channel.onmessage = (ev: MessageEvent) => this.receive(ev.data as Message<T>);
  }

  /**
   * Applies what other pages announce from now on: `add` for each event newer than `lastKey`
   * (the newest key of the read this copy was built from), with its key, `clear` when one
   * clears the store.
   * Errors of `add`/`clear` are the engine refusing an event (another version of the bundle in
   * the other page): the event stays in the store and the next open replays it as usual.
   */
  start(lastKey: number, add: (value: T, key: number) => Promise<unknown>, clear: () => Promise<unknown>): void {
    this.lastKey = lastKey;
    this.apply = async (m) => {
      if (m.kind === 'clear') {
        // the database is made anew: its keys start again from 1
        this.lastKey = 0;
        await clear();
      } else if (m.key > this.lastKey) {
        await add(m.value, m.key);
      }
    };
    const pending = this.pending ?? [];
    this.pending = undefined;
    pending.forEach((m) => this.enqueue(m));
  }

  private receive(m: Message<T>): void {
    if (this.pending) this.pending.push(m);
    else this.enqueue(m);
  }

  private enqueue(m: Message<T>): void {
    const apply = this.apply!;
    this.queue = this.queue.then(() => apply(m)).catch(() => undefined);
  }

  /** Resolves once every event received so far is applied. */
  settled(): Promise<void> {
    return this.queue;
  }

  /** Announces an event this page stored under `key`. */
  added(key: number, value: T): void {
    this.channel?.postMessage({ kind: 'add', key, value } satisfies Message<T>);
  }

  /** Announces that this page cleared the store (and resets the key floor: keys start anew). */
  cleared(): void {
    this.lastKey = 0;
    this.channel?.postMessage({ kind: 'clear' } satisfies Message<T>);
  }

  close(): void {
    this.channel?.close();
  }
}
