// The shop's engine: one hearth-ml instance with the recommender bundle and the visitor's
// profile. switchBackend() starts a second instance on the asked-for backend, loads the same
// bundle (from the Cache API: no download) and the same profile (IndexedDB), compares its top-10
// with the running engine's, and only then takes over; a backend that cannot start (WebGPU
// without an adapter) leaves the running engine untouched and reports the package's reason.
import { Hearth } from 'hearth-ml';

/* global __BUNDLE__ */
export const BUNDLE = { ...__BUNDLE__, href: new URL(__BUNDLE__.url, document.baseURI).href };
/* global __PROPENSITY__ */
/** The purchase-propensity model (scikit-learn on UCI Online Shoppers, its feature spec embedded). */
export const PROPENSITY = __PROPENSITY__;

/** Resource Timing entries for the bundle made at or after `since` (ms): a download from the network. */
function bundleDownloads(since) {
  return performance.getEntriesByType('resource').filter((e) => e.name === BUNDLE.href && e.startTime >= since);
}

/**
 * Where the engine runs. The shop runs it on the page's own thread; `?worker=1` in the URL uses
 * hearth-ml's default Web Worker instead. One recommend() for this bundle is ~0.25 ms of wasm, and
 * on the project's busy 2-core machine the worker's message round trip costs more than the work:
 * the e2e tests measure both modes (README, "The demo shop": median recommend 1.7-6.8 ms on the
 * page's thread vs 9.8-14.7 ms through the worker, click → updated lists 10.8-15.8 vs 24-29 ms).
 * A bigger model would tip this the other way.
 */
export const WORKER = new URLSearchParams(location.search).get('worker') === '1';

export class Engine {
  constructor(hearth, shop, me, load, propensity) {
    this.hearth = hearth;
    this.shop = shop;
    this.me = me;
    /** hearth-ml Model: `predict({ productViews, month, … })` → `{ label, probabilities }` */
    this.propensity = propensity;
    /** `{ ms, downloaded, bytes, loadedAt }` for the bundle's load. */
    this.load = load;
  }

  /** Starts hearth-ml on `backend` and loads the bundle and the visitor's profile. */
  static async start(backend, onProgress) {
    const t0 = performance.now();
    const hearth = await Hearth.init({ backend, worker: WORKER });
    try {
      const shop = await hearth.loadRecommender(BUNDLE.url, { integrity: BUNDLE.integrity, onProgress });
      const me = await shop.profile();
      const propensity = await hearth.loadModel(PROPENSITY.url, { integrity: PROPENSITY.integrity });
      const loadedAt = performance.now();
      const dl = bundleDownloads(t0);
      return new Engine(hearth, shop, me, {
        ms: loadedAt - t0,
        downloaded: dl.length > 0,
        bytes: dl.reduce((a, e) => a + (e.encodedBodySize || 0), 0),
        loadedAt,
      }, propensity);
    } catch (e) {
      hearth.dispose();
      throw e;
    }
  }

  /** Where recommendations are scored: 'webgpu' or 'cpu' (auto's probe may keep the CPU). */
  get backend() {
    return this.shop.backend;
  }

  /** Why: the probe's timings, the missing adapter or a lost device (may be undefined). */
  get backendReason() {
    return this.shop.backendReason ?? this.hearth.backendReason;
  }

  /** Recommendations for the visitor, timed. */
  async recommend(options) {
    const t = performance.now();
    const list = await this.shop.recommend({ profile: this.me, ...options });
    return { list, ms: performance.now() - t };
  }

  dispose() {
    this.hearth.dispose();
  }
}

/**
 * Whether two top-k lists agree at position `i`: the same item, or two items whose scores are a
 * near-tie (|Δ| ≤ 1e-5 + 1e-5·|score|: the GPU sums a dot product in another order than the
 * CPU's SIMD lanes, so equal-scored items may swap).
 */
export function sameAt(a, b, i) {
  const [x, y] = [a[i], b[i]];
  if (!x || !y) return false;
  if (x.id === y.id) return true;
  const tol = 1e-5 + 1e-5 * Math.abs(x.score);
  const twin = b.find((r) => r.id === x.id);
  return Math.abs(x.score - y.score) <= tol && twin !== undefined && Math.abs(twin.score - x.score) <= tol;
}

/**
 * Starts `backend` beside `current`; on success returns `{ engine, agree }` where `agree` counts
 * the positions where both engines' top-10 hold the same item. Throws the package's error when
 * the backend is unavailable (the current engine keeps running).
 */
export async function switchBackend(current, backend, options) {
  const next = await Engine.start(backend);
  try {
    const [a, b] = await Promise.all([current.recommend({ ...options, k: 10 }), next.recommend({ ...options, k: 10 })]);
    const agree = a.list.filter((r, i) => sameAt(a.list, b.list, i)).length;
    return { engine: next, agree, of: a.list.length };
  } catch (e) {
    next.dispose();
    throw e;
  }
}
