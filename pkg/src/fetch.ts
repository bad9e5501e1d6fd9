/**
 * Getting a model's or bundle's bytes: from the caller's buffer, the Cache API, or the network
 * with progress; checked against an SRI `integrity` hash and parsed by the engine before anything
 * is cached.
 * Not part of the public API.
 * @packageDocumentation
 */
import { HearthError } from './errors.js';
import type { LoadOptions } from './types.js';

/** Name of the Cache API cache the package writes. */
export const CACHE_NAME = 'hearth-ml-v1';

const ALGOS: Record<string, string> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

/** Validates the load options (argument errors name the option). */
export function checkLoadOptions(o: LoadOptions | undefined, what: string): LoadOptions {
  if (o === undefined) return {};
  if (o === null || typeof o !== 'object') throw new TypeError(`${what}: options must be an object`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new TypeError(`${what}: options.onProgress must be a function (loaded, total) => void`);
  }
  if (o.integrity !== undefined) {
    if (typeof o.integrity !== 'string') throw new TypeError(`${what}: options.integrity must be a string like 'sha256-<base64>'`);
    parseIntegrity(o.integrity, what);
  }
  if (o.cache !== undefined && typeof o.cache !== 'boolean') throw new TypeError(`${what}: options.cache must be a boolean`);
  if (o.version !== undefined && typeof o.version !== 'string') throw new TypeError(`${what}: options.version must be a string`);
  return o;
}

function parseIntegrity(s: string, what: string): { algo: string; digest: string } {
  const m = /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$/.exec(s.trim());
  if (!m) throw new RangeError(`${what}: options.integrity must be 'sha256-<base64>', 'sha384-…' or 'sha512-…', got '${s}'`);
  return { algo: ALGOS[m[1]!]!, digest: m[2]! };
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** The SRI string (`sha256-…`) of `bytes`. */
export async function sri(bytes: ArrayBuffer, algo = 'SHA-256'): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest(algo, bytes));
  return `${algo.replace('-', '').toLowerCase()}-${base64(d)}`;
}

async function verify(bytes: ArrayBuffer, integrity: string | undefined, where: string): Promise<void> {
  if (!integrity) return;
  const { algo } = parseIntegrity(integrity, 'integrity');
  const got = await sri(bytes, algo);
  if (got !== integrity.trim()) {
    throw new HearthError('INTEGRITY', `${where}: integrity mismatch: expected ${integrity.trim()}, got ${got}; nothing was cached`);
  }
}

/** How the platform reads a URL it does not fetch (Node: files). */
export type LocalReader = (source: string) => Promise<ArrayBuffer> | undefined;

/** Resolves a string or URL against the page (browser) or leaves it as given. */
export function absolute(source: string | URL): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return new URL(String(source), base).href;
  } catch {
    return String(source);
  }
}

async function download(url: string, onProgress: LoadOptions['onProgress']): Promise<ArrayBuffer> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new HearthError('NETWORK', `GET ${url} failed: ${e instanceof Error ? e.message : e}`, { cause: e });
  }
  if (!res.ok) throw new HearthError('NETWORK', `GET ${url}: HTTP ${res.status} ${res.statusText}`.trim());
  const len = Number(res.headers.get('content-length'));
  // Content-Length is the encoded size; with a content-encoding it is not the byte count we read.
  const total = Number.isFinite(len) && len > 0 && !res.headers.get('content-encoding') ? len : undefined;
  if (!res.body) {
    const b = await res.arrayBuffer();
    onProgress?.(b.byteLength, b.byteLength);
    return b;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  onProgress?.(0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress?.(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out.buffer;
}

function cacheKey(url: string, o: LoadOptions): string {
  const tag = o.integrity?.trim() ?? o.version;
  if (!tag || !/^(https?:)/.test(url)) return url;
  const u = new URL(url);
  u.searchParams.append('hearth-ml-key', tag);
  return u.href;
}

async function openCache(): Promise<Cache | undefined> {
  const c = (globalThis as { caches?: CacheStorage }).caches;
  if (!c) return undefined;
  try {
    return await c.open(CACHE_NAME);
  } catch (e) {
    console.warn(`hearth-ml: the Cache API is not usable here (${e instanceof Error ? e.message : e}); loading without a cache`);
    return undefined;
  }
}

/** Engine errors that say the bytes themselves are unusable (never cached; a cached copy is evicted). */
function rejectsBytes(e: unknown): e is HearthError {
  return e instanceof HearthError && !['WORKER_CRASHED', 'DISPOSED', 'BACKEND_UNAVAILABLE', 'NETWORK'].includes(e.code);
}

/** The same error with where the bytes came from appended. */
function noting(e: unknown, note: string): unknown {
  return e instanceof HearthError ? new HearthError(e.code, `${e.message} (${note})`, { cause: e }) : e;
}

/**
 * Gets the bytes of `source` and hands them to `open` (the engine parses them there). A URL goes
 * through the Cache API unless `cache: false`, and only bytes that pass the integrity check and
 * that `open` accepted are stored. A cached copy that fails either is evicted and fetched again,
 * once; an error then says where the bytes that failed came from. `open` owns the ArrayBuffer it
 * gets (it may move it to the worker).
 */
export async function loadWith<T>(
  source: string | URL | ArrayBuffer | ArrayBufferView,
  o: LoadOptions,
  what: string,
  readLocal: LocalReader | undefined,
  open: (bytes: ArrayBuffer) => Promise<T>,
): Promise<T> {
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const view = source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    const bytes = view.slice().buffer; // a copy: the caller's buffer is never detached
    await verify(bytes, o.integrity, what);
    o.onProgress?.(bytes.byteLength, bytes.byteLength);
    return open(bytes);
  }
  if (typeof source !== 'string' && !(source instanceof URL)) {
    throw new TypeError(`${what}: source must be a URL (string or URL) or the file's bytes (ArrayBuffer or Uint8Array)`);
  }
  const url = absolute(source);
  const local = readLocal?.(url);
  if (local) {
    const bytes = await local;
    await verify(bytes, o.integrity, url);
    o.onProgress?.(bytes.byteLength, bytes.byteLength);
    return open(bytes);
  }
  const cache = o.cache === false ? undefined : await openCache();
  const key = cacheKey(url, o);
  let stale: string | undefined; // why the cached copy was evicted
  if (cache) {
    const hit = await cache.match(key).catch(() => undefined);
    if (hit) {
      const bytes = await hit.arrayBuffer();
      try {
        await verify(bytes, o.integrity, url);
        o.onProgress?.(bytes.byteLength, bytes.byteLength);
        return await open(bytes);
      } catch (e) {
        if (!rejectsBytes(e)) throw e;
        stale = e.message;
      }
      await cache.delete(key).catch(() => false);
    }
  }
  const note = stale
    ? `downloaded from ${url} after the copy in the Cache API failed (${stale}) and was evicted; nothing was cached`
    : `downloaded from ${url}; nothing was cached`;
  let bytes: ArrayBuffer;
  try {
    bytes = await download(url, o.onProgress);
    await verify(bytes, o.integrity, url);
  } catch (e) {
    throw stale ? noting(e, note) : e;
  }
  // the cache's copy, taken before `open` may move the bytes to the worker
  const copy = cache ? bytes.slice(0) : undefined;
  let value: T;
  try {
    value = await open(bytes);
  } catch (e) {
    throw rejectsBytes(e) ? noting(e, note) : e;
  }
  if (stale) console.warn(`hearth-ml: the cached copy of ${url} was invalid (${stale}); it was evicted and downloaded again`);
  if (cache && copy) {
    try {
      await cache.put(key, new Response(copy, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(copy.byteLength) } }));
    } catch (e) {
      console.warn(`hearth-ml: could not cache ${url} (${e instanceof Error ? e.name + ': ' + e.message : e}); it will be downloaded again next time`);
    }
  }
  return value;
}

/** Deletes the package's Cache API cache. */
export async function clearCache(): Promise<boolean> {
  const c = (globalThis as { caches?: CacheStorage }).caches;
  return c ? c.delete(CACHE_NAME) : false;
}
