// hearth-ml in headless Chromium (Debian's, through playwright-core), served from 127.0.0.1:
// the worker (transferables, queued concurrent calls, crash and restart), the Cache API (a second
// page load makes zero model requests, counted by the server, which forbids HTTP caching),
// integrity failure, the quota fallback, backends, and IndexedDB profiles across reloads with a
// privacy check (no request at all while the profile records and recommendations are computed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as glue from '../wasm/hearth-cpu.js';
import { serve, launch, freshPage as openFreshPage, hookedWorker } from './helpers/server.mjs';
import { shopBundle, randomBundle, GARDEN } from './helpers/bundle.mjs';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(pkg, '..');
const modelBytes = readFileSync(path.join(root, 'models/propensity.onnx'));
const integrity = 'sha256-' + createHash('sha256').update(modelBytes).digest('base64');
glue.initSync({ module: readFileSync(path.join(pkg, 'wasm/hearth-cpu_bg.wasm')) });
const MODEL = '/models/propensity.onnx';
const FLAKY = '/flaky/propensity.onnx';
const BROKEN = '/broken/propensity.onnx';
const LONG = '/long.hearth';

let server, browser;

before(async () => {
  server = await serve({ '/pkg': pkg, '/models': path.join(root, 'models') }, {
    '/shop.hearth': shopBundle(),
    '/pkg/dist/worker.js': hookedWorker(pkg),
    // truncated on the first request, whole from the second on
    [FLAKY]: (n) => (n === 1 ? modelBytes.subarray(0, 900) : modelBytes),
    // always truncated
    [BROKEN]: modelBytes.subarray(0, 900),
    [LONG]: randomBundle(300, 16, 3, { foldIn: { alpha: 10, lambda: 0.1, halfLifeDays: 14, eventWeights: { view: 0.25, cart: 0.5, purchase: 1 } } }),
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const freshPage = () => openFreshPage(browser, server.base);

test('worker: runs off the main thread, inputs move as transferables, same results as inline', async () => {
  const { context, page } = await freshPage();
  const r = await page.evaluate(async (url) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const inWorker = await Hearth.init();
    const inline = await Hearth.init({ worker: false });
    const a = await inWorker.loadModel(url);
    const b = await inline.loadModel(url);
    const x = Float32Array.from([3, 60, 0, 0, 40, 1500, 0.005, 0.02, 25, 0, 11, 2, 2, 1, 2, 1, 0, 0, 0, 0, 0, 2, 30, 0.2, 0.2, 0, 0, 5, 1, 1, 1, 1, 0, 0]);
    const copy = x.slice();
    const outB = await b.run({ features: { data: copy.slice(), dims: [2, 17] } });
    const kept = x.slice();
    const outKept = await a.run({ features: { data: kept, dims: [2, 17] } }, { transfer: false });
    const outA = await a.run({ features: { data: x, dims: [2, 17] } });
    return {
      worker: inWorker.worker, inlineWorker: inline.worker, backend: a.backend,
      detached: x.byteLength, keptLength: kept.length,
      a: [...outA.purchase_probability.data], b: [...outB.purchase_probability.data], kept: [...outKept.purchase_probability.data],
      isF32: outA.purchase_probability.data instanceof Float32Array,
    };
  }, MODEL);
  assert.equal(r.worker, true);
  assert.equal(r.inlineWorker, false);
  assert.equal(r.backend, 'cpu');
  assert.equal(r.detached, 0, 'the input buffer was moved to the worker');
  assert.equal(r.keptLength, 34, 'transfer: false copies');
  assert.ok(r.isF32);
  assert.deepEqual(r.a, r.b);
  assert.deepEqual(r.kept, r.b);
  assert.notEqual(r.a[0], r.a[1]);
  await context.close();
});

test('worker: the page stays responsive during a long run; inline blocks it', async () => {
  const { context, page } = await freshPage();
  const r = await page.evaluate(async (url) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const rows = 200000;
    const x = new Float32Array(rows * 17);
    for (let i = 0; i < x.length; i++) x[i] = (i % 17) + (i % 5);
    const ticksDuring = async (h) => {
      const m = await h.loadModel(url);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      const t0 = performance.now();
      await m.run({ features: { data: x.slice(), dims: [rows, 17] } });
      const ms = performance.now() - t0;
      clearInterval(timer);
      return { ticks, ms };
    };
    return { worker: await ticksDuring(await Hearth.init()), inline: await ticksDuring(await Hearth.init({ worker: false })) };
  }, MODEL);
  assert.ok(r.inline.ms > 20, `the run is long enough to notice: ${JSON.stringify(r)}`);
  assert.ok(r.inline.ticks <= 1, `inline: the page's timers are blocked: ${JSON.stringify(r)}`);
  assert.ok(r.worker.ticks >= 5, `worker: the page's timers keep firing: ${JSON.stringify(r)}`);
  await context.close();
});

test('worker: concurrent calls are queued safely, each gets its own answer', async () => {
  const { context, page } = await freshPage();
  const r = await page.evaluate(async (url) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const w = await Hearth.init();
    const i = await Hearth.init({ worker: false });
    const [mw, mi] = await Promise.all([w.loadModel(url), i.loadModel(url)]);
    // one real-looking session with its page value and product pages varied
    const inputs = Array.from({ length: 24 }, (_, k) => Float32Array.from([3, 60, 0, 0, 10 + 3 * k, 400 + 50 * k, 0.005, 0.02, k, 0, 11, 2, 2, 1, 2, 1, 0]));
    const want = await Promise.all(inputs.map((x) => mi.run({ features: { data: x.slice(), dims: [1, 17] } })));
    const got = await Promise.all(inputs.map((x) => mw.run({ features: { data: x.slice(), dims: [1, 17] } })));
    return { want: want.map((o) => o.purchase_probability.data[0]), got: got.map((o) => o.purchase_probability.data[0]) };
  }, MODEL);
  assert.deepEqual(r.got, r.want);
  assert.ok(new Set(r.want).size > 10, 'the inputs give different answers');
  await context.close();
});

test('worker: a crashed worker rejects pending calls and restarts', async () => {
  const { context, page } = await freshPage();
  const r = await page.evaluate(async (url) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init();
    const old = await h.loadModel(url);
    const res = {};
    try { await h.transport.call('__test_crash', {}); res.pending = 'resolved'; } catch (e) { res.pending = `${e.name}:${e.code}`; }
    try { await old.run({ features: { data: new Float32Array(17), dims: [1, 17] } }); res.old = 'resolved'; } catch (e) { res.old = `${e.name}:${e.code}`; }
    const fresh = await h.loadModel(url);
    const out = await fresh.run({ features: { data: new Float32Array(17), dims: [1, 17] } });
    res.p = out.purchase_probability.data[0];
    return res;
  }, MODEL);
  assert.equal(r.pending, 'HearthError:WORKER_CRASHED');
  assert.equal(r.old, 'HearthError:WORKER_CRASHED');
  assert.ok(r.p > 0 && r.p < 1);
  assert.equal(server.log.filter((p) => p === '/pkg/dist/worker.js').length >= 2, true, 'a second worker was started');
  await context.close();
});

test('Cache API: the second page load makes zero model requests; a new version fetches again', async () => {
  const { context, page } = await freshPage();
  const before = server.count(MODEL);
  const load = (opts) => page.evaluate(async ([url, opts]) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init();
    const progress = [];
    const m = await h.loadModel(url, { ...opts, onProgress: (l, t) => progress.push([l, t]) });
    const out = await m.run({ features: { data: new Float32Array(17), dims: [1, 17] } });
    return { p: out.purchase_probability.data[0], progress, caches: await caches.keys() };
  }, [MODEL, opts]);
  const first = await load({ integrity });
  assert.equal(server.count(MODEL) - before, 1);
  assert.deepEqual(first.progress.at(-1), [modelBytes.length, modelBytes.length]);
  assert.deepEqual(first.caches, ['hearth-ml-v1']);
  await page.reload();
  const second = await load({ integrity });
  assert.equal(server.count(MODEL) - before, 1, 'second page load: zero model requests');
  assert.equal(second.p, first.p);
  assert.deepEqual(second.progress, [[modelBytes.length, modelBytes.length]]);
  await load({ version: 'v2' });
  assert.equal(server.count(MODEL) - before, 2, 'another cache key (version) fetches once more');
  await load({ cache: false });
  assert.equal(server.count(MODEL) - before, 3, 'cache: false always fetches');
  await context.close();
});

test('integrity: a mismatch is INTEGRITY and nothing is cached', async () => {
  const { context, page } = await freshPage();
  const before = server.count(MODEL);
  const r = await page.evaluate(async ([url, good]) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init();
    const bad = 'sha256-' + btoa(String.fromCharCode(...new Uint8Array(32)));
    let err;
    try { await h.loadModel(url, { integrity: bad }); } catch (e) { err = { name: e.name, code: e.code, message: e.message }; }
    const c = await caches.open('hearth-ml-v1');
    const keysAfterBad = (await c.keys()).length;
    await h.loadModel(url, { integrity: good });
    return { err, keysAfterBad, keysAfterGood: (await c.keys()).length };
  }, [MODEL, integrity]);
  assert.equal(r.err.name, 'HearthError');
  assert.equal(r.err.code, 'INTEGRITY');
  assert.match(r.err.message, /integrity mismatch/);
  assert.equal(r.keysAfterBad, 0);
  assert.equal(r.keysAfterGood, 1);
  assert.equal(server.count(MODEL) - before, 2, 'the good load fetched: the bad bytes were not cached');
  await context.close();
});

test('quota: a refused cache write warns and the load goes on uncached', async () => {
  const { context, page } = await freshPage();
  const warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  const r = await page.evaluate(async (url) => {
    Cache.prototype.put = async () => { throw new DOMException('quota exceeded (test)', 'QuotaExceededError'); };
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init();
    const m = await h.loadModel(url);
    const out = await m.run({ features: { data: new Float32Array(17), dims: [1, 17] } });
    return { p: out.purchase_probability.data[0], cached: (await (await caches.open('hearth-ml-v1')).keys()).length };
  }, MODEL);
  assert.ok(r.p > 0 && r.p < 1);
  assert.equal(r.cached, 0);
  assert.ok(warnings.some((w) => /could not cache .*QuotaExceededError/.test(w)), `warnings: ${warnings}`);
  await context.close();
});

test('backends without a WebGPU adapter: auto and cpu run on the CPU, auto says why, webgpu is BACKEND_UNAVAILABLE; errors keep their codes', async () => {
  const { context, page } = await freshPage();
  const r = await page.evaluate(async (url) => {
    const { Hearth, HearthError } = await import('/pkg/dist/index.js');
    const res = {};
    for (const backend of ['auto', 'cpu']) {
      const h = await Hearth.init({ backend });
      res[backend] = [h.backend, (await h.loadModel(url)).backend, h.backendReason ?? null];
    }
    try { await Hearth.init({ backend: 'webgpu' }); res.webgpu = 'resolved'; } catch (e) { res.webgpu = [e instanceof HearthError, e.code, e.message]; }
    const h = await Hearth.init();
    try { await h.loadModel(new Uint8Array([8, 1, 2, 3])); } catch (e) { res.invalid = [e instanceof HearthError, e.code]; }
    const m = await h.loadModel(url);
    try { await m.run({ features: { data: new Float32Array(16), dims: [1, 16] } }); } catch (e) { res.shape = [e instanceof HearthError, e.code]; }
    m.dispose();
    try { await m.run({ features: { data: new Float32Array(17), dims: [1, 17] } }); } catch (e) { res.disposed = e.code; }
    return res;
  }, MODEL);
  // this browser runs without --enable-unsafe-webgpu: no adapter (test/webgpu.test.mjs has one)
  assert.deepEqual(r.auto.slice(0, 2), ['cpu', 'cpu']);
  assert.match(r.auto[2], /navigator\.gpu/, 'auto says why it runs on the CPU');
  assert.deepEqual(r.cpu, ['cpu', 'cpu', null]);
  assert.equal(r.webgpu[0], true);
  assert.equal(r.webgpu[1], 'BACKEND_UNAVAILABLE');
  assert.match(r.webgpu[2], /backend 'webgpu' is not available: .*navigator\.gpu.*use backend 'cpu' or 'auto'/);
  assert.deepEqual(r.invalid, [true, 'MODEL_INVALID'], 'an engine error from the worker is a HearthError');
  assert.deepEqual(r.shape, [true, 'INPUT_SHAPE']);
  assert.equal(r.disposed, 'DISPOSED');
  await context.close();
});

test('IndexedDB profile store: events survive a reload; clear() deletes the database', async () => {
  const { context, page } = await freshPage();
  const add = () => page.evaluate(async () => {
    const { IdbProfileStore } = await import('/pkg/dist/profile-store.js');
    const s = new IdbProfileStore('store-test');
    await s.add({ item: 'A', event: 'view', ts: 1 });
    await s.add({ item: 'B', event: 'purchase', ts: 2 });
  });
  const read = () => page.evaluate(async () => {
    const { IdbProfileStore } = await import('/pkg/dist/profile-store.js');
    return (await new IdbProfileStore('store-test').all()).map((e) => e.item);
  });
  await add();
  await page.reload();
  assert.deepEqual(await read(), ['A', 'B']);
  const dbs = await page.evaluate(async () => {
    const { IdbProfileStore } = await import('/pkg/dist/profile-store.js');
    const s = new IdbProfileStore('store-test');
    const names = async () => (await indexedDB.databases()).map((d) => d.name);
    const before = await names();
    await s.clear();
    return { before, after: await names() };
  });
  assert.ok(dbs.before.includes('hearth-ml-profile:store-test'));
  assert.ok(!dbs.after.includes('hearth-ml-profile:store-test'));
  await page.reload();
  assert.deepEqual(await read(), []);
  await context.close();
});

test('recommender: profile in IndexedDB across reloads, export, clear; no network request after loading', async () => {
  const { context, page } = await freshPage();
  const requests = [];
  context.on('request', (q) => requests.push(q.url()));
  const setup = async () => {
    await page.evaluate(async () => {
      const { Hearth } = await import('/pkg/dist/index.js');
      const h = await Hearth.init();
      window.shop = await h.loadRecommender('/shop.hearth');
    });
  };
  await setup();
  // privacy: from here on, recording and recommending must not touch the network
  requests.length = 0;
  const logBefore = server.log.length;
  const r1 = await page.evaluate(async () => {
    const me = await shop.profile();
    await me.record({ item: 'K1', event: 'purchase' });
    await me.record({ item: 'K2', event: 'cart' });
    const recs = await shop.recommend({ profile: me, k: 2 });
    const alike = await shop.similar('G1', { k: 2 });
    return { storage: me.storage, recs: recs.map((r) => [r.id, r.item.category, r.because]), alike: alike.map((r) => r.id), exported: await me.export() };
  });
  assert.deepEqual(requests, [], 'no request from the page or the worker');
  assert.equal(server.log.length, logBefore, 'the server saw nothing either');
  assert.equal(r1.storage, 'indexeddb');
  assert.deepEqual(r1.recs.map((x) => x[0]).sort(), ['K3', 'K4']);
  assert.ok(r1.recs.every(([, cat, because]) => cat === 'Kitchen' && because.length > 0));
  assert.ok(r1.alike.every((id) => id.startsWith('G')));
  assert.deepEqual(JSON.parse(r1.exported).events.map((e) => e.item), ['K1', 'K2']);

  await page.reload();
  await setup();
  const r2 = await page.evaluate(async () => {
    const me = await shop.profile();
    const events = (await me.events()).map((e) => e.item);
    const recs = (await shop.recommend({ profile: me, k: 2 })).map((r) => r.id).sort();
    const name = `hearth-ml-profile:${shop.name}`;
    const before = (await indexedDB.databases()).map((d) => d.name).includes(name);
    await me.clear();
    const after = (await indexedDB.databases()).map((d) => d.name).includes(name);
    const cold = (await shop.recommend({ profile: me, k: 4 })).map((r) => r.id).sort();
    return { events, recs, before, after, cold };
  });
  assert.deepEqual(r2.events, ['K1', 'K2'], 'the profile survived the reload');
  assert.deepEqual(r2.recs, ['K3', 'K4']);
  assert.equal(r2.before, true);
  assert.equal(r2.after, false, 'clear() deleted the database');
  assert.deepEqual(r2.cold, [...GARDEN].sort());

  await page.reload();
  await setup();
  const r3 = await page.evaluate(async () => (await (await shop.profile()).events()).length);
  assert.equal(r3, 0, 'nothing came back after clear()');
  await context.close();
});

test('Cache API: bytes the engine rejects are never cached; the next load fetches again', async () => {
  const { context, page } = await freshPage();
  const r = await page.evaluate(async (url) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init();
    const res = {};
    try { await h.loadModel(url); res.first = 'resolved'; } catch (e) { res.first = [e.name, e.code, e.message]; }
    res.keysAfterBad = (await (await caches.open('hearth-ml-v1')).keys()).length;
    const m = await h.loadModel(url);
    res.p = (await m.run({ features: { data: new Float32Array(17), dims: [1, 17] } })).purchase_probability.data[0];
    res.keysAfterGood = (await (await caches.open('hearth-ml-v1')).keys()).length;
    return res;
  }, FLAKY);
  assert.equal(r.first[0], 'HearthError');
  assert.equal(r.first[1], 'MODEL_INVALID');
  assert.match(r.first[2], /downloaded from http:\/\/127\.0\.0\.1:\d+\/flaky\/propensity\.onnx; nothing was cached/);
  assert.equal(r.keysAfterBad, 0, 'the truncated file was not cached');
  assert.equal(server.count(FLAKY), 2, 'the second load reached the server');
  assert.ok(r.p > 0 && r.p < 1);
  assert.equal(r.keysAfterGood, 1, 'the good file was cached');
  await context.close();
});

test('Cache API: a cached copy that no longer parses is evicted and fetched again once; the error says which failed', async () => {
  const { context, page } = await freshPage();
  const warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  const before = server.count(MODEL);
  const r = await page.evaluate(async ([good, broken]) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init();
    const c = await caches.open('hearth-ml-v1');
    const junk = () => new Response(new Uint8Array([8, 1, 2, 3]));
    const res = {};
    // a damaged entry for a URL whose file is good
    await c.put(new URL(good, location.href).href, junk());
    const m = await h.loadModel(good);
    res.p = (await m.run({ features: { data: new Float32Array(17), dims: [1, 17] } })).purchase_probability.data[0];
    res.cachedBytes = (await (await c.match(new URL(good, location.href).href)).arrayBuffer()).byteLength;
    // a damaged entry for a URL whose file is damaged too
    await c.put(new URL(broken, location.href).href, junk());
    try { await h.loadModel(broken); res.both = 'resolved'; } catch (e) { res.both = [e.code, e.message]; }
    res.brokenCached = Boolean(await c.match(new URL(broken, location.href).href));
    return res;
  }, [MODEL, BROKEN]);
  assert.ok(r.p > 0 && r.p < 1, 'the good file loaded after the damaged copy was evicted');
  assert.equal(server.count(MODEL) - before, 1, 'one request for the good file');
  assert.equal(r.cachedBytes, modelBytes.length, 'the cache now holds the good file');
  assert.ok(warnings.some((w) => /cached copy of .*propensity\.onnx was invalid.*evicted and downloaded again/.test(w)), `warnings: ${warnings}`);
  assert.equal(r.both[0], 'MODEL_INVALID');
  assert.match(r.both[1], /downloaded from .*\/broken\/propensity\.onnx after the copy in the Cache API failed \(.*\) and was evicted; nothing was cached/);
  assert.equal(server.count(BROKEN), 1, 'fetched again once, not more');
  assert.equal(r.brokenCached, false);
  await context.close();
});

test('stores: a refused IndexedDB write rejects record() with STORAGE and the profile stays as stored', async () => {
  const { context, page } = await freshPage();
  const r = await page.evaluate(async () => {
    const { Hearth, HearthError } = await import('/pkg/dist/index.js');
    const h = await Hearth.init();
    const shop = await h.loadRecommender('/shop.hearth', { name: 'quota-test' });
    const me = await shop.profile();
    await me.record({ item: 'K1', event: 'purchase' });
    const ids = async () => (await shop.recommend({ profile: me, k: 8, exclude: 'none' })).map((x) => [x.id, x.score]);
    const before = await ids();
    const add = IDBObjectStore.prototype.add;
    IDBObjectStore.prototype.add = function () { throw new DOMException('quota exceeded (test)', 'QuotaExceededError'); };
    const res = {};
    try { await me.record({ item: 'G1', event: 'purchase' }); res.err = 'resolved'; } catch (e) { res.err = [e instanceof HearthError, e.code, e.message]; }
    // an aborted transaction (e.g. the disk is full when it commits)
    IDBObjectStore.prototype.add = function (...a) { const q = add.apply(this, a); this.transaction.abort(); return q; };
    try { await me.record({ item: 'G2', event: 'purchase' }); res.abort = 'resolved'; } catch (e) { res.abort = [e.code, e.message]; }
    IDBObjectStore.prototype.add = add;
    res.unchanged = JSON.stringify(await ids()) === JSON.stringify(before);
    // a recommend() called right after record(), without waiting, sees the event (call order)
    const pending = me.record({ item: 'G4', event: 'purchase', weight: 50 });
    res.ordered = (await shop.recommend({ profile: me, k: 8, exclude: 'none' }))[0].id;
    await pending;
    await me.clear();
    await me.record({ item: 'K1', event: 'purchase' });
    res.events = (await me.events()).map((e) => e.item);
    await me.record({ item: 'G3', event: 'view' });
    res.after = (await (await shop.profile()).events()).map((e) => e.item);
    await me.clear();
    return res;
  });
  assert.deepEqual(r.err.slice(0, 2), [true, 'STORAGE']);
  assert.match(r.err[2], /QuotaExceededError: quota exceeded \(test\).*nothing was recorded/);
  assert.equal(r.abort[0], 'STORAGE');
  assert.equal(r.unchanged, true, 'the engine profile did not take the events that were not stored');
  assert.equal(r.ordered, 'G4', 'the event was folded in before the next call');
  assert.deepEqual(r.events, ['K1']);
  assert.deepEqual(r.after, ['K1', 'G3'], 'recording works again once IndexedDB does');
  await context.close();
});

test('stores: two pages recording into one profile at once lose no event; both see the merged history after reload', async () => {
  const context = await browser.newContext();
  const pages = [await context.newPage(), await context.newPage()];
  const open = (p) => p.evaluate(async () => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init();
    window.shop = await h.loadRecommender('/shop.hearth', { name: 'two-tabs' });
    window.me = await shop.profile();
  });
  for (const p of pages) await p.goto(server.base + '/');
  await Promise.all(pages.map(open));
  const items = [['K1', 'K2', 'K3', 'K4'], ['G1', 'G2', 'G3', 'G4']];
  // both pages record at the same time, 24 events each
  await Promise.all(pages.map((p, k) => p.evaluate(async ([ids, k]) => {
    for (let i = 0; i < 24; i++) await me.record({ item: ids[i % 4], event: 'view', ts: 1e12 + i * 2 + k });
  }, [items[k], k])));
  const seen = [];
  for (const p of pages) {
    await p.reload();
    await open(p);
    seen.push(await p.evaluate(async () => ({ events: (await me.events()).map((e) => `${e.item}@${e.ts}`).sort(), recs: (await shop.recommend({ profile: me, k: 3, exclude: 'none' })).map((r) => r.id) })));
  }
  assert.equal(seen[0].events.length, 48, 'every event of both pages was stored');
  assert.deepEqual(seen[1].events, seen[0].events, 'both pages see the same merged history');
  assert.deepEqual(seen[1].recs, seen[0].recs);
  await pages[0].evaluate(() => me.clear());
  await context.close();
});

test('stores: live sync: two pages with one profile open fold in each other\'s new events without a reload, none lost or doubled; a clear reaches the other', async () => {
  const context = await browser.newContext();
  const pages = [await context.newPage(), await context.newPage()];
  const open = (p) => p.evaluate(async () => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init();
    window.shop = await h.loadRecommender('/shop.hearth', { name: 'live-tabs' });
    window.me = await shop.profile();
  });
  for (const p of pages) await p.goto(server.base + '/');
  await open(pages[0]);
  await pages[0].evaluate(async () => { await me.clear(); await me.record({ item: 'K1', event: 'cart', ts: 1e12 }); });
  await open(pages[1]); // reads that event from IndexedDB: it must not come a second time
  const items = [['K1', 'K2', 'K3', 'K4'], ['G1', 'G2', 'G3', 'G4']];
  // both pages record at the same time, 20 events each
  await Promise.all(pages.map((p, k) => p.evaluate(async ([ids, k]) => {
    for (let i = 0; i < 20; i++) await me.record({ item: ids[i % 4], event: i % 5 ? 'view' : 'purchase', ts: 1e12 + 10 + i * 2 + k });
  }, [items[k], k])));
  // no reload: each page's live profile scores like the stored history folded in from scratch
  const view = (p) => p.evaluate(async () => {
    let last;
    for (let t = 0; t < 300; t++) {
      const stored = await me.events();
      const live = await shop.recommend({ profile: me, k: 6, exclude: 'none' });
      const full = await shop.recommend({ events: stored, k: 6, exclude: 'none' });
      last = { n: stored.length, live: live.map((r) => [r.id, r.score]), full: full.map((r) => [r.id, r.score]) };
      const same = live.length === full.length && live.every((r, i) => r.id === full[i].id && Math.abs(r.score - full[i].score) <= 1e-5 * Math.max(1, Math.abs(full[i].score)));
      if (same) return { ...last, same };
      await new Promise((r) => setTimeout(r, 10));
    }
    return { ...last, same: false };
  });
  for (const [k, p] of pages.entries()) {
    const v = await view(p);
    assert.equal(v.n, 41, 'every event of both pages was stored');
    assert.ok(v.same, `page ${k}: the live profile ${JSON.stringify(v.live)} differs from the stored history's ${JSON.stringify(v.full)}`);
  }
  // a clear in one page empties the other's profile too
  await pages[1].evaluate(() => me.clear());
  const cleared = await pages[0].evaluate(async () => {
    const cold = JSON.stringify(await shop.recommend({ k: 6, exclude: 'none' }));
    for (let t = 0; t < 300; t++) {
      if (JSON.stringify(await shop.recommend({ profile: me, k: 6, exclude: 'none' })) === cold) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  });
  assert.ok(cleared, 'the other page still scores the cleared events');
  await context.close();
});

test('stores: a 100,000-event IndexedDB history (written event by event, as an older version did) is read once and packed on open, loses nothing, keeps its recommendations, and reopens fast', async () => {
  const { context, page } = await freshPage();
  const r = await page.evaluate(async (url) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init();
    const shop = await h.loadRecommender(url);
    const n = 100000;
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const kinds = ['view', 'view', 'view', 'cart', 'purchase'];
    const t0 = Date.UTC(2026, 0, 1);
    const events = Array.from({ length: n }, (_, i) => ({ item: `i${String(Math.floor(rnd() ** 3 * 300)).padStart(5, '0')}`, event: kinds[Math.floor(rnd() * 5)], ts: t0 + i * 60000 }));
    // written straight into the profile's database, as years of recording would have
    const me0 = await shop.profile();
    await me0.record(events[0]);
    const db = await new Promise((res, rej) => { const q = indexedDB.open(`hearth-ml-profile:${shop.name}`); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
    await new Promise((res, rej) => {
      const tx = db.transaction('events', 'readwrite');
      for (const e of events.slice(1)) tx.objectStore('events').add(e);
      tx.oncomplete = res; tx.onerror = () => rej(tx.error);
    });
    db.close();
    const now = t0 + n * 60000;
    let t = performance.now();
    const want = await shop.recommend({ events, k: 20, now });
    const fullFoldMs = performance.now() - t;
    // every record the package reads from IndexedDB during the open
    let read = 0;
    const counting = (name) => {
      const f = IDBObjectStore.prototype[name];
      IDBObjectStore.prototype[name] = function (...a) {
        const r = f.apply(this, a);
        r.addEventListener('success', () => { read += Array.isArray(r.result) ? r.result.length : r.result === undefined ? 0 : 1; });
        return r;
      };
      return () => { IDBObjectStore.prototype[name] = f; };
    };
    const restore = ['get', 'getAll', 'getAllKeys'].map(counting);
    t = performance.now();
    const me = await shop.profile();
    const firstOpenMs = performance.now() - t;
    restore.forEach((f) => f());
    // what each item's events add up to at now (the fold-in weight, half-life 14 days), before and after
    const half = 14 * 86400000, w = { view: 0.25, cart: 0.5, purchase: 1 };
    const sums = (list) => {
      const m = {};
      for (const e of list) m[e.item] = (m[e.item] ?? 0) + (e.weight ?? w[e.event]) * 2 ** ((e.ts - now) / half);
      return m;
    };
    const got = await shop.recommend({ profile: me, k: 20, now });
    const stored = await me.events();
    t = performance.now();
    const again = await shop.profile();
    const reopenMs = performance.now() - t;
    const res = {
      fullFoldMs, firstOpenMs, reopenMs, stored: stored.length, again: (await again.events()).length,
      tailKept: JSON.stringify(stored.slice(-500)) === JSON.stringify(events.slice(-500)), read,
      before: sums(events), after: sums(stored),
      counted: stored.filter((e) => e.event === 'summary').reduce((a, e) => a + e.count, 0),
      want: want.map((x) => [x.id, x.score]), got: got.map((x) => [x.id, x.score]),
    };
    await me.clear();
    return res;
  }, LONG);
  assert.ok(r.stored <= 500 + 300, `compacted to ${r.stored} events`);
  assert.equal(r.again, r.stored, 'not compacted twice');
  assert.equal(r.tailKept, true, 'the newest 500 events are kept as they were');
  assert.equal(r.counted, 100000 - 500, 'every summarized event is counted once');
  // read once: the 100,000 loose events, the (absent) pack and the newest key, nothing twice
  assert.ok(r.read <= 100000 + 2, `the open read ${r.read} records`);
  // nothing lost: each item's events weigh the same before and after, as summaries
  assert.deepEqual(Object.keys(r.after).sort(), Object.keys(r.before).sort());
  for (const [item, x] of Object.entries(r.before)) assert.ok(Math.abs(r.after[item] - x) <= 1e-9 * Math.max(1, x), `${item}: ${r.after[item]} vs ${x}`);
  assert.deepEqual(r.got.map((x) => x[0]), r.want.map((x) => x[0]), 'same recommendations as the full history');
  r.got.forEach(([id, s], i) => assert.ok(Math.abs(s - r.want[i][1]) <= 1e-4 * Math.max(1, Math.abs(r.want[i][1])), `${id}: ${s} vs ${r.want[i][1]}`));
  console.log(`# profile (IndexedDB, Chromium, worker): fold-in of the full 100000 events ${r.fullFoldMs.toFixed(0)} ms; first open (reads 100000 events once, packs and compacts them) ${r.firstOpenMs.toFixed(0)} ms; reopen (${r.stored} events) ${r.reopenMs.toFixed(0)} ms`);
  await context.close();
});

test('inline (worker: false): a wasm trap rejects with WORKER_CRASHED; the next call runs on a fresh instance with models, recommenders and profiles reloaded', async () => {
  const { context, page } = await freshPage();
  const r = await page.evaluate(async (url) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    // the glue module the inline engine imported (same URL, same module)
    const glue = await import('/pkg/wasm/hearth-cpu.js');
    const h = await Hearth.init({ worker: false });
    const model = await h.loadModel(url);
    const shop = await h.loadRecommender('/shop.hearth', { name: 'trap-test' });
    const me = await shop.profile();
    await me.record({ item: 'K1', event: 'purchase' });
    const feeds = () => ({ features: { data: Float32Array.from({ length: 34 }, (_, i) => (i % 17) * 0.5), dims: [2, 17] } });
    const want = [...(await model.run(feeds())).purchase_probability.data];
    const wantRecs = (await shop.recommend({ profile: me, k: 3 })).map((x) => [x.id, x.score]);
    const made = { sessions: 0, recommenders: 0 };
    const { fromBytes } = glue.Session;
    const recFromBytes = glue.Recommender.fromBytes;
    glue.Session.fromBytes = function (...a) { made.sessions++; return fromBytes.apply(this, a); };
    glue.Recommender.fromBytes = function (...a) { made.recommenders++; return recFromBytes.apply(this, a); };
    const { recommend } = glue.Profile.prototype;
    glue.Profile.prototype.recommend = function () { glue.Profile.prototype.recommend = recommend; throw new WebAssembly.RuntimeError('unreachable'); };
    const res = { made };
    try { await shop.recommend({ profile: me, k: 3 }); res.trap = 'resolved'; } catch (e) { res.trap = [e.name, e.code, e.message]; }
    res.got = [...(await model.run(feeds())).purchase_probability.data];
    res.recs = (await shop.recommend({ profile: me, k: 3 })).map((x) => [x.id, x.score]);
    res.want = want;
    res.wantRecs = wantRecs;
    await me.clear();
    return res;
  }, MODEL);
  assert.equal(r.trap[0], 'HearthError');
  assert.equal(r.trap[1], 'WORKER_CRASHED');
  assert.match(r.trap[2], /trapped \(unreachable\); the next call runs on a fresh instance/);
  assert.deepEqual(r.got, r.want, 'identical results after the rebuild');
  assert.deepEqual(r.recs, r.wantRecs, 'the profile was replayed');
  assert.equal(r.made.sessions, 1, 'the model was reloaded from its bytes');
  assert.equal(r.made.recommenders, 1, 'the recommender was reloaded from its bytes');
  await context.close();
});
