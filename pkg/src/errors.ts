/**
 * Errors raised by hearth-ml. Engine and environment failures are {@link HearthError}s with a
 * stable {@link HearthErrorCode}; a wrong argument is a `TypeError` (wrong kind of value) or a
 * `RangeError` (right kind, value out of range) whose message starts with the argument's name.
 * @packageDocumentation
 */

/**
 * Stable codes of {@link HearthError}. Codes from the wasm engine pass through unchanged.
 *
 * - `MODEL_INVALID`: the bytes are not a valid ONNX model.
 * - `BUNDLE_INVALID`: the bytes are not a valid `.hearth` recommender bundle.
 * - `UNKNOWN_ITEM`: an item id the bundle does not have (e.g. `similar('nope')`).
 * - `UNSUPPORTED`: the model uses an operator, attribute or dtype Hearth does not implement.
 * - `INPUT_NAME`: a feed names no input of the model, or an input is missing.
 * - `INPUT_DTYPE`: a feed's typed array does not match the input's dtype.
 * - `INPUT_SHAPE`: a feed's dims do not match the input's shape or its data length.
 * - `INPUT_VALUE`: a float feed holds NaN or ±Infinity (the message names the input and the
 *   first bad element); pass `{ allowNonFinite: true }` to {@link Model.run} to feed them.
 * - `INPUT`, `SHAPE`, `DTYPE`, `LIMIT`, `ARGUMENT`: raised by the engine itself (see the message).
 * - `BACKEND_UNAVAILABLE`: the requested backend is not in this build or the wasm could not start.
 * - `INTEGRITY`: downloaded bytes do not match the `integrity` hash (nothing was cached).
 * - `NETWORK`: a download failed (connection error or non-2xx HTTP status), or in Node a file
 *   could not be read (the message names the path).
 * - `STORAGE`: IndexedDB refused to store a profile event (quota, a closed or blocked database);
 *   the event was not recorded anywhere, and the profile is as it was before the call.
 * - `FEATURE`: a row given to {@link Model.predict} does not fit the model's feature spec; the
 *   error's `row`, `field` and `reason` (`missing`, `type`, `unknownCategory`, `nonFinite`,
 *   `notAnObject`) say where and why.
 * - `SPEC_INVALID`: a feature spec is malformed or does not fit the model, or the model has none
 *   and its inputs do not name its features (write one with `hearth spec MODEL.onnx`).
 * - `DISPOSED`: the model, recommender, profile or `Hearth` instance was disposed.
 * - `WORKER_CRASHED`: the wasm engine trapped or the worker died while the call was pending. In
 *   a worker, the worker restarts by itself and objects made in the dead one reject with this
 *   code too (load them again); inline (`worker: false`) the next call runs on a fresh wasm
 *   instance with every model, recommender and profile reloaded from its bytes.
 */
export type HearthErrorCode =
  | 'MODEL_INVALID'
  | 'BUNDLE_INVALID'
  | 'UNKNOWN_ITEM'
  | 'UNSUPPORTED'
  | 'INPUT_NAME'
  | 'INPUT_DTYPE'
  | 'INPUT_SHAPE'
  | 'INPUT_VALUE'
  | 'INPUT'
  | 'SHAPE'
  | 'DTYPE'
  | 'LIMIT'
  | 'ARGUMENT'
  | 'BACKEND_UNAVAILABLE'
  | 'INTEGRITY'
  | 'NETWORK'
  | 'STORAGE'
  | 'DISPOSED'
  | 'FEATURE'
  | 'SPEC_INVALID'
  | 'WORKER_CRASHED';

/**
 * An error from the engine or the environment, with a stable `code` and the engine's message.
 *
 * @example
 * ```ts
 * try { await model.run(feeds); }
 * catch (e) { if (e instanceof HearthError && e.code === 'INPUT_SHAPE') showHint(e.message); }
 * ```
 */
export class HearthError extends Error {
  /** Stable machine-readable code; see {@link HearthErrorCode}. */
  readonly code: HearthErrorCode;

  /** `FEATURE` errors: the row (0-based index in the batch) that did not fit. */
  readonly row?: number;
  /** `FEATURE` errors: the feature's name. */
  readonly field?: string;
  /** `FEATURE` errors: `'missing'`, `'type'`, `'unknownCategory'`, `'nonFinite'` or `'notAnObject'`. */
  readonly reason?: FeatureErrorReason;

  constructor(code: HearthErrorCode, message: string, options?: { cause?: unknown; row?: number; field?: string; reason?: FeatureErrorReason }) {
    super(message, options);
    this.name = 'HearthError';
    this.code = code;
    if (options?.field !== undefined) {
      this.row = options.row;
      this.field = options.field;
      this.reason = options.reason;
    }
  }
}

/** Why a row's field did not fit a feature spec (see {@link HearthError.reason}). */
export type FeatureErrorReason = 'missing' | 'type' | 'unknownCategory' | 'nonFinite' | 'notAnObject';

/** A plain-data error that crosses the worker boundary. @internal */
export interface WireError {
  name: string;
  code?: string;
  message: string;
  /** `FEATURE` errors: where the row did not fit */
  feature?: { row: number; field: string; reason: FeatureErrorReason };
}

/** @internal */
export function toWire(e: unknown): WireError {
  if (e instanceof Error) {
    const x = e as { code?: unknown; row?: unknown; field?: unknown; reason?: unknown };
    const w: WireError = { name: e.name, message: e.message, code: typeof x.code === 'string' ? x.code : undefined };
    if (typeof x.field === 'string') w.feature = { row: Number(x.row), field: x.field, reason: x.reason as FeatureErrorReason };
    return w;
  }
  return { name: 'Error', message: String(e) };
}

/**
 * Rebuilds the public error from an engine error: `TypeError`/`RangeError` stay what they are,
 * an error with a code becomes a {@link HearthError}; a wasm trap is a crash. @internal
 */
export function fromWire(w: WireError): Error {
  if (w.name === 'TypeError' && !w.code) return new TypeError(w.message);
  if (w.name === 'RangeError' && !w.code) return new RangeError(w.message);
  if (w.code) return new HearthError(w.code as HearthErrorCode, w.message, w.feature);
  if (w.name === 'RuntimeError') {
    return new HearthError('WORKER_CRASHED', `the wasm engine trapped: ${w.message}`);
  }
  return new HearthError('ARGUMENT', w.message);
}
