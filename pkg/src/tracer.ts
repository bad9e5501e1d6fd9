/**
 * The knowledge tracer: {@link Tracer} (a loaded learning bundle) and {@link Learner} (one
 * learner's answers, kept on the device and replayed into the engine). Arguments are checked
 * here, on the calling thread; everything else runs in the engine (worker or inline).
 * @packageDocumentation
 */
import { HearthError } from './errors.js';
import { LiveSync } from './live-sync.js';
import { storeName, type ProfileStore } from './profile-store.js';
import type { Hearth } from './core.js';
import type {
  Answer, DueOptions, Mastery, NextOptions, NextQuestion, ObserveResult, Prediction, Question, Review,
  StoredAnswer, TracerInfo,
} from './tracer-types.js';

/** Calls a private constructor from the package's own code. */
function make<T>(cls: unknown, ...args: unknown[]): T {
  return new (cls as new (...a: unknown[]) => T)(...args);
}

const NEXT_KEYS = new Set(['k', 'targetSuccess', 'topic', 'level', 'exclude', 'mode']);

/**
 * A learner's saved engine state, kept beside their answers (`state` `'learner'`): the state
 * after every stored answer up to key `upTo` (`count` of them, the one at `upTo` being `last`),
 * for the bundle `fingerprint`. Opening a learner restores it and replays only the answers
 * after `upTo`; it is a cache of the replay, never the only copy (every answer stays stored).
 */
interface SavedLearner {
  upTo: number;
  count: number;
  last: StoredAnswer;
  fingerprint: string;
  state: unknown;
}

const SAVED = 'learner';
/**
 * A learner's state is saved (on open, and while answering) once this many answers were
 * replayed or stored since the last save: opening then reads one record and at most about this
 * many answers, however long the history.
 */
export const SAVE_EVERY = 200;

function sameAnswer(a: StoredAnswer | undefined, b: StoredAnswer | undefined): boolean {
  return a !== undefined && b !== undefined && a.question === b.question && a.correct === b.correct && a.ts === b.ts;
}

type Opened = { learner: number; skipped: string[]; answered: number; restored: boolean } | { restored: false; why: string };

/**
 * A loaded learning bundle (`.hearth`, format `hearth.learning`): questions with topics, skills,
 * levels and fitted IRT/Elo/BKT parameters. Get one from {@link Hearth.loadTracer}. After loading,
 * nothing is sent anywhere: every estimate is computed on the device.
 *
 * @example
 * ```ts
 * const tracer = await hearth.loadTracer('/models/mathe.hearth');
 * const learner = await tracer.learner();
 * await learner.observe({ question: '77', correct: true });
 * const [next] = await learner.next({ k: 1, targetSuccess: 0.7 });
 * ```
 */
export class Tracer {
  private disposed = false;
  private readonly byId: Map<string, Question>;

  /** Made by the package; see the class's doc for how to get one. */
  private constructor(
    /** @internal */ readonly hearth: Hearth,
    /** @internal */ readonly handle: number,
    /** @internal */ readonly generation: number,
    /** What the bundle holds: model, topics, skills, levels, attribution, provenance. */
    readonly info: TracerInfo,
    private readonly list: Question[],
    /** The learner stores' name (the bundle URL unless `options.name` was given). */
    readonly name: string | undefined,
  ) {
    this.byId = new Map(list.map((q) => [q.id, q]));
  }

  /** Attribution lines of the data the bundle was built from: show them in your app. */
  get attribution(): string[] {
    return this.info.attribution;
  }

  /**
   * Every question, in bundle order: `{ id, topic, skill, level, levelName?, keywords,
   * difficulty, discrimination, model }`.
   * @example
   * ```ts
   * const hard = tracer.questions().filter((q) => q.difficulty > 1);
   * ```
   */
  questions(): Question[] {
    return this.list.map((q) => ({ ...q, keywords: [...q.keywords] }));
  }

  /**
   * One question, or `undefined` for an id the bundle does not have.
   * @example
   * ```ts
   * tracer.question('77')?.topic;   // 'Statistics'
   * ```
   */
  question(id: string): Question | undefined {
    if (typeof id !== 'string') throw new TypeError('question: id must be a question id (a string)');
    const q = this.byId.get(id);
    return q && { ...q, keywords: [...q.keywords] };
  }

  /** @internal */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** @internal */
  call<R>(op: string, args: Record<string, unknown>): Promise<R> {
    if (this.disposed) return Promise.reject(new HearthError('DISPOSED', 'this tracer was disposed'));
    return this.hearth.call<R>(op, { handle: this.handle, ...args }, [], this.generation);
  }

  /**
   * A learner: their answers are kept in IndexedDB on this device (database
   * `hearth-ml-learner:<name>:<id>`; memory in Node) and replayed into the engine, so the learner
   * survives reloads until {@link Learner.clear}. Answers to questions the bundle no longer has
   * are kept in the store and skipped in the replay. The engine's state is saved beside the
   * answers every few hundred answers, so opening replays only the answers since (a saved state
   * of another bundle version, or one that does not check out, is ignored: every answer is
   * replayed, as without one).
   *
   * @param id - which learner of this bundle (several people on one device). @defaultValue 'default'
   * @throws `TypeError` when the bundle was loaded from bytes without `options.name`, or for a
   *   bad id; `HearthError` `STORAGE` when IndexedDB cannot be read.
   * @example
   * ```ts
   * const learner = await tracer.learner();
   * ```
   */
  async learner(id = 'default'): Promise<Learner> {
    if (typeof id !== 'string' || id === '') throw new TypeError('learner: id must be a non-empty string');
    if (this.name === undefined) {
      throw new TypeError('learner: the bundle was loaded from bytes; pass loadTracer(bytes, { name }) to name its learner stores');
    }
    const store = (await this.hearth.platform.profileStore(`${this.name}:${id}`, 'learner')) as unknown as ProfileStore<StoredAnswer>;
    // listening before the read: answers other pages store after it reach this learner live
    const sync = new LiveSync<StoredAnswer>(storeName(`${this.name}:${id}`, 'learner'));
    try {
      // the saved state (a cache: unreadable is as absent) and the answers after it, checked
      // to be the store it was saved from; else every answer
      const saved = await store.getState<SavedLearner>(SAVED).catch(() => undefined);
      let tail = saved && (await store.tail(saved.upTo));
      let r: Opened | undefined;
      if (saved && tail && tail.before === saved.count && sameAnswer(tail.at, saved.last)) {
        r = await this.call<Opened>('openLearner', { saved: { fingerprint: saved.fingerprint, state: saved.state }, answers: tail.events });
      }
      if (!r || !('learner' in r)) {
        tail = await store.tail(0);
        r = await this.call<Opened>('openLearner', { answers: tail.events });
        if (!('learner' in r)) throw new HearthError('STORAGE', `learner: could not be opened (${r.why})`);
      }
      const base = { key: tail!.lastKey, count: tail!.before + tail!.events.length, last: tail!.events.at(-1) ?? (r.restored ? saved!.last : undefined) };
      const learner = make<Learner>(Learner, this, id, store, r.learner, r.answered, sync, base, r.restored ? saved!.upTo : 0);
      // many answers replayed: save the state now (before other pages' answers are applied)
      if (base.key - (r.restored ? saved!.upTo : 0) >= SAVE_EVERY) learner.save();
      learner.listen();
      return learner;
    } catch (e) {
      sync.close();
      throw e;
    }
  }

  /**
   * Frees the bundle and its learners in the engine (the stored answers stay).
   * @example
   * ```ts
   * tracer.dispose();
   * ```
   */
  dispose(): void {
    if (this.disposed) return;
    this.hearth.call('free', { handle: this.handle }, [], this.generation).catch(() => {});
    this.disposed = true;
  }
}

function checkQuestion(tracer: Tracer, q: unknown, what: string): asserts q is string {
  if (typeof q !== 'string' || q === '') throw new TypeError(`${what} must be a question id (a non-empty string)`);
  if (!tracer.has(q)) throw new HearthError('UNKNOWN_ITEM', `${what}: question '${q}' is not in this bundle`);
}

function checkNext(tracer: Tracer, o: unknown): NextOptions {
  if (o === undefined) return {};
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TypeError('next: options must be an object');
  const x = o as Record<string, unknown>;
  for (const key of Object.keys(x)) {
    if (x[key] !== undefined && !NEXT_KEYS.has(key)) {
      throw new TypeError(`next: options.${key} is not an option (k, targetSuccess, topic, level, exclude, mode)`);
    }
  }
  if (x.k !== undefined) {
    if (typeof x.k !== 'number') throw new TypeError('next: options.k must be a number');
    if (!Number.isInteger(x.k) || x.k < 1 || x.k > 10000) throw new RangeError(`next: options.k must be an integer from 1 to 10000, got ${x.k}`);
  }
  if (x.targetSuccess !== undefined) {
    if (typeof x.targetSuccess !== 'number') throw new TypeError('next: options.targetSuccess must be a number');
    if (!(x.targetSuccess > 0 && x.targetSuccess < 1)) throw new RangeError(`next: options.targetSuccess must be inside (0, 1), got ${x.targetSuccess}`);
  }
  if (x.topic !== undefined) {
    if (typeof x.topic !== 'string') throw new TypeError('next: options.topic must be a topic name (a string)');
    if (!tracer.info.topics.includes(x.topic)) {
      throw new RangeError(`next: options.topic '${x.topic}' is not a topic of this bundle (topics: ${tracer.info.topics.join(', ')})`);
    }
  }
  if (x.level !== undefined) {
    const levels = tracer.info.levels;
    if (typeof x.level === 'number') {
      if (!Number.isInteger(x.level) || x.level < 0 || x.level > 255 || (levels.length > 0 && x.level >= levels.length)) {
        throw new RangeError(`next: options.level ${x.level} is not a level of this bundle (0 to ${Math.max(levels.length, 256) - 1})`);
      }
    } else if (typeof x.level === 'string') {
      if (!levels.includes(x.level)) throw new RangeError(`next: options.level '${x.level}' is not a level of this bundle (levels: ${levels.join(', ')})`);
    } else {
      throw new TypeError('next: options.level must be a level index (number) or name (string)');
    }
  }
  if (x.exclude !== undefined) {
    if (!Array.isArray(x.exclude)) throw new TypeError('next: options.exclude must be an array of question ids');
    x.exclude.forEach((q, i) => checkQuestion(tracer, q, `next: options.exclude[${i}]`));
  }
  if (x.mode !== undefined && x.mode !== 'practice' && x.mode !== 'assess') {
    throw new RangeError(`next: options.mode must be 'practice' or 'assess', got '${String(x.mode)}'`);
  }
  const out: Record<string, unknown> = {};
  for (const key of NEXT_KEYS) if (x[key] !== undefined) out[key] = x[key];
  return out as NextOptions;
}

/**
 * One learner of a {@link Tracer}: their answers never leave the device. Each answer updates the
 * ability posteriors (overall, per topic, per skill; IRT EAP on a grid), the Elo rating, the
 * topic's BKT mastery and the question's spaced-repetition card (FSRS-6). Other pages (tabs)
 * of this browser with the same learner open apply each stored answer at once, without a
 * reload (a same-origin `BroadcastChannel`), and see a {@link Learner.clear}.
 *
 * @example
 * ```ts
 * const state = await learner.observe({ question: '77', correct: false });
 * const { topics } = await learner.mastery();
 * const reviews = await learner.due();
 * ```
 */
export class Learner {
  private disposed = false;
  /**
   * The answers the engine applied after {@link Learner.base}, in the order it applied them,
   * each with its store key once known (this page's own answers get theirs when stored).
   */
  private slots: { key: number | undefined; answer: StoredAnswer }[] = [];
  /**
   * Set when the engine applied answers in another order than their keys (two pages answering
   * at once): its state is then not the replay of the store, and is not saved until the next open.
   */
  private unordered = false;

  /** Made by the package; see the class's doc for how to get one. */
  private constructor(
    /** The tracer this learner belongs to. */
    readonly tracer: Tracer,
    /** Which learner of the bundle. */
    readonly id: string,
    private readonly store: ProfileStore<StoredAnswer>,
    private readonly handle: number,
    private count: number,
    private readonly sync: LiveSync<StoredAnswer>,
    /**
     * The stored answers the engine's state is exactly the replay of, in key order: keys up to
     * `key`, `count` of them, the last one `last`.
     */
    private base: { key: number; count: number; last: StoredAnswer | undefined },
    /** The key the saved state covers. */
    private savedKey: number,
  ) {}

  /** @internal Applies what other pages store for this learner from now on. */
  listen(): void {
    this.sync.start(
      this.base.key,
      async (answer, key) => {
        if (this.disposed) return;
        const slot = { key, answer };
        this.slots.push(slot);
        try {
          await this.tracer.call('observe', { learner: this.handle, answer });
        } catch (e) {
          this.slots.splice(this.slots.indexOf(slot), 1);
          throw e;
        }
        this.count++;
        this.settle();
      },
      async () => {
        if (this.disposed) return;
        await this.tracer.call('clearLearner', { learner: this.handle });
        this.reset();
      },
    );
  }

  private reset(): void {
    this.count = 0;
    this.slots = [];
    this.unordered = false;
    this.base = { key: 0, count: 0, last: undefined };
    this.savedKey = 0;
  }

  /**
   * Moves the base over the answers whose keys are known, while they follow it key by key; and
   * saves the state once {@link SAVE_EVERY} answers came after the last save and none is pending.
   */
  private settle(): void {
    while (this.slots.length > 0 && this.slots[0]!.key !== undefined) {
      const { key, answer } = this.slots.shift()!;
      if (key === this.base.key + 1 && !this.unordered) this.base = { key, count: this.base.count + 1, last: answer };
      else this.unordered = true;
    }
    if (!this.unordered && this.slots.length === 0 && this.base.key - this.savedKey >= SAVE_EVERY) this.save();
  }

  /**
   * @internal Saves the engine's state as the replay of the stored answers up to the base (no
   * answer may be pending). A failed save costs nothing: the next open replays more answers.
   */
  save(): void {
    const { key, count, last } = this.base;
    if (last === undefined) return;
    this.savedKey = key;
    // issued now, before any later call: the engine's state is the base's
    this.tracer
      .call<{ fingerprint: string; state: unknown }>('learnerState', { learner: this.handle })
      .then(({ fingerprint, state }) => this.store.putState(SAVED, { upTo: key, count, last, fingerprint, state } satisfies SavedLearner))
      .catch(() => undefined);
  }

  /** Where the answers are kept: `'indexeddb'` (browsers) or `'memory'` (Node). */
  get storage(): string {
    return this.store.kind;
  }

  /** Answers observed (those replayed on opening included). */
  get answered(): number {
    return this.count;
  }

  private live(): number {
    if (this.disposed) throw new HearthError('DISPOSED', 'this learner was disposed');
    return this.handle;
  }

  /**
   * Records an answer: checked and applied in the engine at once (so calls made after this one
   * see it), then stored on the device; resolves when the IndexedDB transaction has completed.
   * When the check or the write fails nothing was stored and the learner is as before.
   *
   * @param answer - `{ question, correct, ts? }`; `ts` (ms) defaults to now.
   * @returns the state right after the answer (the prediction it was scored against, the
   *   overall, topic and skill abilities, the question's review card).
   * @throws `HearthError` `UNKNOWN_ITEM` for a question the bundle does not have, `ARGUMENT` for
   *   a `ts` on a day before this question's last answer, `STORAGE` when IndexedDB refuses the
   *   write; `TypeError` for a malformed answer.
   * @example
   * ```ts
   * const { ability, topic } = await learner.observe({ question: '77', correct: true });
   * ```
   */
  async observe(answer: Answer): Promise<ObserveResult> {
    if (answer === null || typeof answer !== 'object') throw new TypeError('observe: answer must be { question, correct, ts? }');
    checkQuestion(this.tracer, answer.question, 'observe: answer.question');
    if (typeof answer.correct !== 'boolean') throw new TypeError('observe: answer.correct must be a boolean');
    if (answer.ts !== undefined && (typeof answer.ts !== 'number' || !Number.isFinite(answer.ts))) {
      throw new TypeError('observe: answer.ts must be a time in ms since the epoch');
    }
    const stored: StoredAnswer = { question: answer.question, correct: answer.correct, ts: answer.ts ?? Date.now() };
    const learner = this.live();
    const slot: { key: number | undefined; answer: StoredAnswer } = { key: undefined, answer: stored };
    this.slots.push(slot);
    const drop = () => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
    };
    let r: ObserveResult;
    try {
      r = await this.tracer.call<ObserveResult>('observe', { learner, answer: stored });
    } catch (e) {
      drop();
      throw e;
    }
    let key: number;
    try {
      key = await this.store.add(stored);
    } catch (e) {
      await this.tracer.call('unobserve', { learner, answer: stored }).catch(() => undefined);
      drop();
      this.settle();
      throw e;
    }
    // other pages with this learner open apply it too
    this.sync.added(key, stored);
    this.count++;
    slot.key = key;
    this.settle();
    return r;
  }

  /**
   * The predicted success on a question.
   * @param question - a question id of the bundle.
   * @throws `HearthError` `UNKNOWN_ITEM`; `TypeError` for a non-string id.
   * @example
   * ```ts
   * const { pCorrect } = await learner.predict('77');
   * ```
   */
  async predict(question: string): Promise<Prediction> {
    checkQuestion(this.tracer, question, 'predict: question');
    return this.tracer.call('predict', { learner: this.live(), question });
  }

  /**
   * The overall ability and every topic's and skill's ability with its uncertainty (posterior
   * SD and 95% interval), answer count and (topics) BKT mastery.
   * @example
   * ```ts
   * const { ability, topics } = await learner.mastery();
   * ```
   */
  async mastery(): Promise<Mastery> {
    return this.tracer.call('mastery', { learner: this.live() });
  }

  /**
   * The next questions to practise, each with the reason it was chosen. `'practice'` (default):
   * predicted success closest to `targetSuccess`, spread over topics; `'assess'`: maximum Fisher
   * information (placement tests). The last question answered is never proposed.
   *
   * @param options - see {@link NextOptions}: `k = 5`, `targetSuccess = 0.7`, `topic`, `level`,
   *   `exclude`, `mode = 'practice'`.
   * @throws `TypeError` / `RangeError` naming a bad option (an unknown topic or level is a
   *   `RangeError`); `HearthError` `UNKNOWN_ITEM` for an excluded id the bundle does not have.
   * @example
   * ```ts
   * const picks = await learner.next({ k: 5, targetSuccess: 0.7, topic: 'Statistics' });
   * // [{ question: '77', pCorrect: 0.69, reason: 'P(correct) 0.69 — practises Statistics', … }]
   * ```
   */
  async next(options?: NextOptions): Promise<NextQuestion[]> {
    const opts = checkNext(this.tracer, options);
    return this.tracer.call('next', { learner: this.live(), opts });
  }

  /**
   * Spaced-repetition reviews (FSRS-6 at 90% requested retention): the cards due at `now`, most
   * overdue first; with `all`, every answered question's card, soonest first.
   * @param options - `{ now = Date.now(), all = false }`.
   * @example
   * ```ts
   * const reviews = await learner.due({ now: Date.now() });
   * ```
   */
  async due(options: DueOptions = {}): Promise<Review[]> {
    if (options === null || typeof options !== 'object') throw new TypeError('due: options must be an object');
    if (options.now !== undefined && (typeof options.now !== 'number' || !Number.isFinite(options.now))) {
      throw new TypeError('due: options.now must be a time in ms since the epoch');
    }
    if (options.all !== undefined && typeof options.all !== 'boolean') throw new TypeError('due: options.all must be a boolean');
    return this.tracer.call('due', { learner: this.live(), now: options.now ?? Date.now(), all: options.all ?? false });
  }

  /**
   * The stored answers, oldest first.
   * @example
   * ```ts
   * const log = await learner.answers();
   * ```
   */
  async answers(): Promise<StoredAnswer[]> {
    this.live();
    return this.store.all();
  }

  /**
   * Everything stored about the learner, as a JSON string
   * (`{ "format": "hearth-ml-learner", "version": 1, "tracer": name, "learner": id, "answers": [...] }`).
   * @example
   * ```ts
   * download('my-answers.json', await learner.export());
   * ```
   */
  async export(): Promise<string> {
    const answers = await this.answers();
    return JSON.stringify({ format: 'hearth-ml-learner', version: 1, tracer: this.tracer.name, learner: this.id, answers });
  }

  /**
   * Erases the learner: the IndexedDB database is deleted and the engine's state reset. The
   * learner stays usable (as new).
   * @example
   * ```ts
   * await learner.clear();
   * ```
   */
  async clear(): Promise<void> {
    await this.store.clear();
    this.sync.cleared();
    await this.tracer.call('clearLearner', { learner: this.live() });
    this.reset();
  }

  /**
   * Frees the engine's copy (the stored answers stay).
   * @example
   * ```ts
   * learner.dispose();
   * ```
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sync.close();
    this.tracer.call('free', { handle: this.handle }).catch(() => {});
  }
}
