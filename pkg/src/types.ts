/**
 * Public data types and options of hearth-ml.
 * @packageDocumentation
 */

/** Element types a tensor can hold (the engine's names). */
export type DType =
  | 'float32' | 'float16' | 'float64' | 'bfloat16'
  | 'int64' | 'int32' | 'int16' | 'int8'
  | 'uint64' | 'uint32' | 'uint16' | 'uint8'
  | 'bool' | 'string';

/**
 * Typed arrays a tensor's `data` can be; a string tensor (category columns, class labels) is a `string[]`.
 * Each dtype has one array: `float32` Float32Array, `float64` Float64Array, `int64` BigInt64Array,
 * `uint64` BigUint64Array, `int32` Int32Array, `uint32` Uint32Array, `int16` Int16Array, `int8`
 * Int8Array, `uint8` and `bool` (0/1) Uint8Array; a Uint16Array is `uint16` numbers, or the raw
 * bits of `float16` or `bfloat16` values (JS has no such arrays): its `type` says which.
 */
export type TensorData =
  | readonly string[]
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

/**
 * A tensor crossing the API: a typed array in row-major order and its dims.
 *
 * @example
 * ```ts
 * const x: Tensor = { data: Float32Array.from(features), dims: [1, 17] };
 * ```
 */
export interface Tensor {
  /** The elements, row-major. `Uint8Array` is `uint8` unless `type` is `'bool'`; a `Uint16Array` needs `type: 'uint16'`, `'float16'` or `'bfloat16'` (bits). */
  readonly data: TensorData;
  /** Size of each dimension; their product is `data.length`. */
  readonly dims: readonly number[];
  /** Element type, needed only where the array type is ambiguous (`'bool'`, and a Uint16Array's `'uint16'`, `'float16'`, `'bfloat16'`). Outputs always carry it. */
  readonly type?: DType;
}

/** A tensor that {@link Model.run} returns: `type` is always set. */
export type OutputTensor = Tensor & { readonly type: DType };

/**
 * An ONNX map (`ai.onnx.ml`) as a plain object: keys are strings (an int64 key in decimal, e.g.
 * `'3'`), values numbers, strings, or bigints for int64 values. A feed for a map input
 * (scikit-learn's `DictVectorizer` exported by skl2onnx: `{ pageValues: 12.3, 'month=Nov': 1 }`)
 * and each row of a `ZipMap` output (`{ '0': 0.82, '1': 0.18 }`).
 */
export type MapValue = Readonly<Record<string, number | bigint | string>>;

/** What {@link Model.run} takes for one input: a tensor, a map for an input of kind `'map'`, an array of maps for `'mapSequence'`. */
export type Feed = Tensor | MapValue | readonly MapValue[];

/**
 * What {@link Model.run} gives for one output, by the output's {@link IoInfo.kind}: a tensor
 * (kind absent); for `'mapSequence'` (a `ZipMap`, as skl2onnx writes classifiers by default)
 * an array with one {@link MapValue} per row; for `'map'` one map; for `'sequence'` an array of
 * tensors; for an optional its value or `null`. Narrow with {@link isTensor}, or name the
 * outputs' types in `run<…>()`.
 */
export type RunOutput = OutputTensor | MapValue | readonly RunOutput[] | null;

/** The kinds of ONNX value an input or output can be (absent in {@link IoInfo}: a tensor). */
export type ValueKind = 'sequence' | 'optional' | 'optionalSequence' | 'map' | 'mapSequence';

/** A model input or output as the model declares it. */
export interface IoInfo {
  /** Its name in the model (the key of a feed or output). */
  readonly name: string;
  /** What kind of value it is when not a tensor: a `'map'` input takes a {@link MapValue}; a `ZipMap` output is `'mapSequence'`. */
  readonly kind?: ValueKind;
  /** Declared dtype (a map's or sequence's values), or `null` when the model does not declare one. */
  readonly type: DType | null;
  /** A map's key type (kinds `'map'` and `'mapSequence'`). */
  readonly keyType?: 'int64' | 'string';
  /** Declared dims: a number when fixed, a string for a symbolic dim (e.g. `'batch'`), `null` when unknown; `null` for no declared shape. */
  readonly dims: readonly (number | string | null)[] | null;
}

/** Which backend runs models and recommenders: see {@link HearthOptions.backend}. */
export type BackendName = 'auto' | 'cpu' | 'webgpu';

/**
 * Options of {@link Hearth.init}.
 *
 * @example
 * ```ts
 * const hearth = await Hearth.init({ backend: 'auto', worker: true });
 * ```
 */
export interface HearthOptions {
  /**
   * `'auto'`: when `navigator.gpu` gives a hardware adapter, loads the CPU + WebGPU wasm and puts
   * each model and recommender on whichever backend a short timed probe finds faster; otherwise
   * (no WebGPU, no adapter, or only a software fallback adapter such as SwiftShader) the CPU-only
   * wasm (smaller), and `hearth.backendReason` says why.
   * `'cpu'`: WebAssembly SIMD128 on the CPU; the WebGPU wasm is never downloaded.
   * `'webgpu'`: every model and recommender on the GPU (ops without a GPU kernel run on the CPU
   * inside the same plan); rejects with `BACKEND_UNAVAILABLE` and the reason when there is no
   * adapter (Node has none). A GPU device lost later moves work to the CPU, and the results stay
   * the same.
   * @defaultValue `'auto'`
   * @example `{ backend: 'cpu' }`
   */
  backend?: BackendName;
  /**
   * `true` runs everything in a module Web Worker the package starts (the page stays responsive;
   * typed arrays move as transferables). `false` runs on the calling thread. The Node entry runs
   * inline only.
   * @defaultValue `true` in browsers, `false` in Node
   * @example `{ worker: false }`
   */
  worker?: boolean;
}

/**
 * How a model or bundle is fetched. Used by {@link Hearth.loadModel} and {@link Hearth.loadRecommender}.
 *
 * @example
 * ```ts
 * await hearth.loadModel('/models/propensity.onnx', {
 *   integrity: 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
 *   onProgress: (loaded, total) => bar.value = total ? loaded / total : 0,
 * });
 * ```
 */
export interface LoadOptions {
  /**
   * Called as the download progresses with the bytes received so far and the total from
   * `Content-Length` (`undefined` when the server does not send it). Called once with
   * `(size, size)` when the bytes come from the cache or were given directly.
   * @defaultValue none
   * @example `{ onProgress: (loaded, total) => console.log(loaded, total) }`
   */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /**
   * Subresource-integrity hash of the file (`'sha256-<base64>'`; `sha384-` and `sha512-` work
   * too). A mismatch rejects with `HearthError` code `INTEGRITY` and nothing is cached. Also
   * part of the cache key, so a new hash fetches the new file.
   * @defaultValue none (not checked)
   * @example `{ integrity: 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' }`
   */
  integrity?: string;
  /**
   * Keep the file in the Cache API (cache `hearth-ml-v1`) keyed by URL + `integrity` or
   * `version`, so later page loads make no request for it. Only a file the engine parsed (and
   * that matched `integrity`) is stored; a cached copy that no longer parses is evicted and
   * downloaded again, once. When the browser refuses to store it
   * (quota), the load goes on uncached with a console warning. Ignored where the Cache API does
   * not exist (Node, insecure origins).
   * @defaultValue `true`
   * @example `{ cache: false }`
   */
  cache?: boolean;
  /**
   * A version label that is part of the cache key: change it when the file at the same URL
   * changes and no `integrity` is given.
   * @defaultValue none (the URL, plus `integrity` when given, is the key)
   * @example `{ version: '2026-11-22' }`
   */
  version?: string;
}

/** Options of {@link Hearth.loadModel}. */
export interface ModelLoadOptions extends LoadOptions {
  /**
   * The model's feature spec for {@link Model.predict} (an object or its JSON text), when the
   * model does not carry one in its `metadata_props` (`hearth spec MODEL.onnx --embed OUT.onnx`
   * puts it there). A spec that does not fit the model rejects the load with `SPEC_INVALID`.
   * @defaultValue the model's own spec, else one derived from inputs that name the features
   * @example `{ featureSpec: await (await fetch('/models/propensity.spec.json')).json() }`
   */
  featureSpec?: FeatureSpec | string;
}

/**
 * How named features become a tabular model's inputs (the JSON that `hearth spec` writes).
 * `layout: 'columns'`: one `[N, 1]` input per feature (`input` names it, default the feature's
 * name), as skl2onnx writes a `ColumnTransformer`; `'matrix'`: one float `[N, K]` input (`input`),
 * one `column` per feature (default its position).
 */
export interface FeatureSpec {
  format?: 'hearth.features';
  version?: 1;
  layout: 'columns' | 'matrix';
  /** matrix layout: the input's name (default the model's only input) */
  input?: string;
  features: FeatureSpecFeature[];
  /** class labels of a plain probability tensor, when the graph does not say them */
  classes?: Array<string | number>;
}

/** One named feature of a {@link FeatureSpec}. */
export interface FeatureSpecFeature {
  /** the row's key */
  name: string;
  kind: 'number' | 'category' | 'boolean';
  /** columns layout: the model input it feeds (default `name`) */
  input?: string;
  /** matrix layout: its column (default its position in `features`) */
  column?: number;
  /** categories: the known values */
  vocabulary?: Array<string | number>;
  /** a category feeding a number: the number for each vocabulary entry (default its index) */
  codes?: number[];
  /** used when the row lacks the field; `'NaN'` for a number means the model's missing value */
  default?: number | string | boolean;
  /** a category outside the vocabulary: an error (default), the default, or passed to the model */
  unknown?: 'error' | 'default' | 'ignore';
  /** numbers: accept NaN and ±Infinity (default: `FEATURE` error with reason `nonFinite`) */
  allowNonFinite?: boolean;
}

/** A row of named feature values for {@link Model.predict}. */
export type FeatureRow = Record<string, number | string | boolean | null | undefined>;

/**
 * One prediction: a classifier's `label` and `probabilities` (class label → probability, in the
 * model's class order), or a regressor's `value` (`values` for several targets).
 */
export interface TabularPrediction {
  label?: string | number;
  probabilities?: Record<string, number>;
  value?: number;
  values?: number[];
}

/** Options of {@link Hearth.loadRecommender}. */
export interface RecommenderLoadOptions extends LoadOptions {
  /**
   * Names the on-device profile store (one IndexedDB database per recommender). Required when
   * the bundle is given as bytes; for a URL it defaults to the absolute URL.
   * @defaultValue the bundle's absolute URL
   * @example `{ name: 'shop' }`
   */
  name?: string;
}

/** Options of {@link Model.run}. */
export interface RunOptions {
  /**
   * In a worker, move the feeds' buffers instead of copying them: faster, but the typed arrays
   * you passed are detached (length 0) afterwards. `false` copies them. Views on part of a
   * larger buffer are always copied. Inline (no worker) nothing is moved or copied.
   * @defaultValue `true`
   * @example `{ transfer: false }`
   */
  transfer?: boolean;
  /**
   * Accept NaN and ±Infinity in float feeds. By default `run` rejects them with `HearthError`
   * code `INPUT_VALUE`, naming the input and the first bad element, because they usually come
   * from a bug upstream (a missing value, a division by zero) and spread through every output.
   * @defaultValue `false`
   * @example `{ allowNonFinite: true }`
   */
  allowNonFinite?: boolean;
}

/** An interaction a profile records. */
export interface InteractionEvent {
  /** The item's id in the bundle. */
  item: string;
  /** What the user did: `'view'`, `'cart'`, `'purchase'` or another kind the bundle weighs. */
  event: 'view' | 'cart' | 'purchase' | (string & {});
  /** Strength of the interaction; required for kinds the bundle has no weight for. @defaultValue the bundle's weight for the kind (view 0.25, cart 0.5, purchase 1 unless the bundle says otherwise) */
  weight?: number;
  /** When it happened, in ms since the epoch. @defaultValue `Date.now()` when recorded */
  ts?: number;
}

/** Item metadata from the bundle. */
export interface Item {
  id: string;
  name?: string;
  category?: string;
  price?: number;
  inStock?: boolean;
  [key: string]: unknown;
}

/** Metadata predicates for recommendations. */
export interface ItemFilter {
  /** Only items in this category (or any of these). @example `{ category: ['Kitchen', 'Garden'] }` */
  category?: string | string[];
  /** Only items priced at least this. @example `{ priceMin: 5 }` */
  priceMin?: number;
  /** Only items priced at most this. @example `{ priceMax: 50 }` */
  priceMax?: number;
  /** Only items in stock (`true`) or out of stock (`false`). @example `{ inStock: true }` */
  inStock?: boolean;
}

/**
 * Options of {@link Recommender.recommend}.
 *
 * @example
 * ```ts
 * await shop.recommend({ profile: me, k: 10, exclude: 'seen', filter: { category: 'Kitchen' }, diversity: 0.3 });
 * ```
 */
export interface RecommendOptions {
  /** Whose recommendations: a profile from {@link Recommender.profile}. @defaultValue none (use `events`, or popularity) */
  profile?: Profile;
  /** Interactions to recommend from when no `profile` is given. @defaultValue `[]` (cold start: popularity) */
  events?: InteractionEvent[];
  /** How many items (1 to 10000). @defaultValue `10` @example `{ k: 6 }` */
  k?: number;
  /** How many history items each result names in `because`. @defaultValue `3` @example `{ explain: 1 }` */
  explain?: number;
  /** `'seen'` leaves out items in the history; `'none'` keeps them. @defaultValue `'seen'` */
  exclude?: 'seen' | 'none';
  /** Only these item ids. @defaultValue all items @example `{ allow: ['85123A', '71053'] }` */
  allow?: string[];
  /** Never these item ids. @defaultValue none @example `{ deny: ['POST'] }` */
  deny?: string[];
  /** Metadata predicates. @defaultValue none */
  filter?: ItemFilter;
  /** Score multipliers per item id. @defaultValue none @example `{ boost: { '85123A': 1.2 } }` */
  boost?: Record<string, number>;
  /** 0 = pure relevance, 1 = most diverse (MMR). @defaultValue `0` @example `{ diversity: 0.3 }` */
  diversity?: number;
  /** The time used for recency decay, in ms since the epoch. @defaultValue `Date.now()` */
  now?: number;
}

/** Options of {@link Recommender.similar}. */
export interface SimilarOptions {
  /** How many items (1 to 10000). @defaultValue `10` @example `{ k: 6 }` */
  k?: number;
  /** Metadata predicates. @defaultValue none */
  filter?: ItemFilter;
  /** 0 = most similar, up to 1 = most diverse (MMR). @defaultValue `0` */
  diversity?: number;
  /** Only these item ids. @defaultValue all items */
  allow?: string[];
  /** Never these item ids. @defaultValue none */
  deny?: string[];
}

/** One recommended item. */
export interface Recommendation {
  id: string;
  score: number;
  /** The item's metadata from the bundle. */
  item?: Item;
  /** History items that contributed most to this recommendation. */
  because: string[];
}

/** One similar item. */
export interface SimilarItem {
  id: string;
  score: number;
  /** The item's metadata from the bundle. */
  item?: Item;
}

/** What a recommender bundle holds. */
export interface RecommenderInfo {
  /** Bundle format version. */
  version: number;
  numItems: number;
  /** Embedding dimension. */
  dim: number;
  /** Item table element type: `'f32'`, `'f16'` or `'int8'`. */
  dtype: string;
  /** `'dot'` or `'cosine'`. */
  metric?: string;
  /** Whether a popularity prior serves cold starts. */
  hasPopularity: boolean;
  hasUserModel?: boolean;
  /** Item categories present in the catalog. */
  categories?: string[];
  /** Attribution lines of the data the bundle was built from: show them in your app. */
  attribution: string[];
  /** Fold-in parameters (alpha, lambda, halfLifeDays, eventWeights). */
  foldIn?: Record<string, unknown>;
  /** Provenance (tool, parameters, metrics), when the builder wrote it. */
  source?: unknown;
}

// Forward declarations for doc links; the classes live in core.ts.
import type { Profile, Recommender, Model, Hearth } from './core.js';
export type { Profile, Recommender, Model, Hearth };
