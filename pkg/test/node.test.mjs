// hearth-ml in Node: the package's Node entry (dist/node.js, what `import 'hearth-ml'` resolves to
// in Node), inline engine, models from paths / file URLs / http / bytes, feed checks with their
// error codes, integrity, progress, disposal, and the recommender with an in-memory profile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Hearth, HearthError, sri } from 'hearth-ml';
import * as glue from '../wasm/hearth-cpu.js';
// the test build (feature `test-api`, tests/wasm-build/) only to decode the fixture's TensorProtos
import * as testGlue from '../../tests/wasm-build/hearth-cpu.js';
import { shopBundle, randomBundle, KITCHEN, GARDEN } from './helpers/bundle.mjs';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(pkg, '..');
const modelPath = path.join(root, 'models/propensity.onnx');
const modelBytes = readFileSync(modelPath);
const integrity = 'sha256-' + createHash('sha256').update(modelBytes).digest('base64');
glue.initSync({ module: readFileSync(path.join(pkg, 'wasm/hearth-cpu_bg.wasm')) });
testGlue.initSync({ module: readFileSync(path.join(root, 'tests/wasm-build/hearth-cpu_bg.wasm')) });

let hearth, server, base, requests = [];

before(async () => {
  hearth = await Hearth.init();
  server = createServer((req, res) => {
    requests.push(req.url);
    if (req.url === '/propensity.onnx') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': modelBytes.length });
      // two chunks, so progress is reported more than once
      res.write(modelBytes.subarray(0, 1000));
      setTimeout(() => res.end(modelBytes.subarray(1000)), 20);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  hearth?.dispose();
  server?.close();
});

const x = Float32Array.from([3, 60, 0, 0, 40, 1500, 0.005, 0.02, 25, 0, 11, 2, 2, 1, 2, 1, 0, 0, 0, 0, 0, 2, 30, 0.2, 0.2, 0, 0, 5, 1, 1, 1, 1, 0, 0]);

test('Node entry: inline CPU engine, same answers as the wasm build used directly', async () => {
  assert.equal(hearth.worker, false);
  assert.equal(hearth.backend, 'cpu');
  const model = await hearth.loadModel(modelPath);
  assert.equal(model.backend, 'cpu');
  assert.deepEqual(model.inputs, [{ name: 'features', type: 'float32', dims: ['batch', 17] }]);
  assert.deepEqual(model.outputs, [{ name: 'purchase_probability', type: 'float32', dims: ['batch', 1] }]);
  const out = await model.run({ features: { data: x, dims: [2, 17] } });
  // freed at once: the package's engine shares this glue module (and its wasm instance)
  const direct = glue.Session.fromBytes(new Uint8Array(modelBytes));
  const want = direct.run({ features: { data: x, dims: [2, 17] } });
  direct.free();
  assert.deepEqual(out.purchase_probability.dims, [2, 1]);
  assert.equal(out.purchase_probability.type, 'float32');
  assert.ok(out.purchase_probability.data instanceof Float32Array);
  assert.deepEqual([...out.purchase_probability.data], [...want.purchase_probability.data]);
  // the two sessions differ, and so do their probabilities
  assert.notEqual(out.purchase_probability.data[0], out.purchase_probability.data[1]);
  assert.equal(x.length, 34, 'inline runs neither move nor copy the caller\'s arrays');
  model.dispose();
});

test('a fixture model matches its onnxruntime outputs through the package', async () => {
  const dir = path.join(root, 'tests/models/mlp');
  const model = await hearth.loadModel(pathToFileURL(path.join(dir, 'model.onnx')));
  const input = testGlue.decodeTensorProto(new Uint8Array(readFileSync(path.join(dir, 'test_data_set_0/input_0.pb'))));
  const want = testGlue.decodeTensorProto(new Uint8Array(readFileSync(path.join(dir, 'test_data_set_0/output_0.pb'))));
  const out = await model.run({ [input.name]: { data: input.data, dims: input.dims } });
  const got = out[want.name];
  assert.deepEqual(got.dims, want.dims);
  for (let i = 0; i < want.data.length; i++) {
    assert.ok(Math.abs(got.data[i] - want.data[i]) <= 1e-5 + 1e-3 * Math.abs(want.data[i]), `[${i}] ${got.data[i]} vs ${want.data[i]}`);
  }
});

test('bytes in: ArrayBuffer and Uint8Array views are copied, never detached; onProgress reports the size', async () => {
  const copy = new Uint8Array(modelBytes);
  const calls = [];
  const m1 = await hearth.loadModel(copy.buffer, { onProgress: (l, t) => calls.push([l, t]) });
  assert.equal(copy.buffer.byteLength, modelBytes.length);
  assert.deepEqual(calls, [[modelBytes.length, modelBytes.length]]);
  const padded = new Uint8Array(modelBytes.length + 16);
  padded.set(modelBytes, 8);
  const m2 = await hearth.loadModel(padded.subarray(8, 8 + modelBytes.length));
  assert.deepEqual(m2.inputs, m1.inputs);
});

test('http: streamed download with progress; HTTP errors are NETWORK', async () => {
  const calls = [];
  const model = await hearth.loadModel(`${base}/propensity.onnx`, { onProgress: (l, t) => calls.push([l, t]) });
  assert.equal(model.inputs[0].name, 'features');
  assert.ok(calls.length >= 3, `progress calls: ${JSON.stringify(calls)}`);
  assert.deepEqual(calls.at(-1), [modelBytes.length, modelBytes.length]);
  for (let i = 1; i < calls.length; i++) assert.ok(calls[i][0] >= calls[i - 1][0]);
  await assert.rejects(hearth.loadModel(`${base}/missing.onnx`), (e) => e instanceof HearthError && e.code === 'NETWORK' && /404/.test(e.message));
});

test('integrity: the right hash loads, a wrong one is INTEGRITY, a malformed one a RangeError', async () => {
  assert.equal(await sri(new Uint8Array(modelBytes).buffer), integrity);
  await hearth.loadModel(modelPath, { integrity });
  const wrong = 'sha256-' + Buffer.alloc(32, 7).toString('base64');
  await assert.rejects(hearth.loadModel(modelPath, { integrity: wrong }),
    (e) => e instanceof HearthError && e.code === 'INTEGRITY' && e.message.includes(wrong) && e.message.includes(integrity));
  await assert.rejects(hearth.loadModel(new Uint8Array(modelBytes), { integrity: wrong }), (e) => e.code === 'INTEGRITY');
  await assert.rejects(hearth.loadModel(modelPath, { integrity: 'md5-abc' }), (e) => e instanceof RangeError && /options\.integrity/.test(e.message));
});

test('feeds are checked against the model with stable codes', async () => {
  const model = await hearth.loadModel(modelPath);
  const code = (c, re) => (e) => e instanceof HearthError && e.code === c && (!re || re.test(e.message));
  await assert.rejects(model.run({ nope: { data: new Float32Array(17), dims: [1, 17] } }), code('INPUT_NAME', /nope.*features/));
  await assert.rejects(model.run({}), code('INPUT_NAME', /features.*missing/));
  await assert.rejects(model.run({ features: { data: new Int32Array(17), dims: [1, 17] } }), code('INPUT_DTYPE', /expected float32.*got int32/));
  await assert.rejects(model.run({ features: { data: new Float32Array(16), dims: [1, 16] } }), code('INPUT_SHAPE', /dim 1 is 16, expected 17/));
  await assert.rejects(model.run({ features: { data: new Float32Array(17), dims: [2, 17] } }), code('INPUT_SHAPE', /34 elements but data has 17/));
  await assert.rejects(model.run({ features: { data: new Float32Array(17), dims: [17] } }), code('INPUT_SHAPE', /rank 2/));
  await assert.rejects(model.run({ features: { data: [1, 2], dims: [1, 2] } }), (e) => e instanceof TypeError && /feeds\.features\.data/.test(e.message));
  await assert.rejects(model.run({ features: { data: new Float32Array(17), dims: [1, -17] } }), (e) => e instanceof RangeError && /feeds\.features\.dims/.test(e.message));
  await assert.rejects(model.run({ features: { data: new Float32Array(17) } }), (e) => e instanceof TypeError && /feeds\.features\.dims/.test(e.message));
  await assert.rejects(model.run(null), (e) => e instanceof TypeError && /feeds/.test(e.message));
  await assert.rejects(model.run({ features: { data: new Uint16Array(17), dims: [1, 17] } }), (e) => e instanceof TypeError && /float16/.test(e.message));
});

test('engine errors pass through as HearthError with the engine\'s code and message', async () => {
  await assert.rejects(hearth.loadModel(new Uint8Array([8, 1, 2, 3])), (e) => e instanceof HearthError && e.code === 'MODEL_INVALID' && /invalid model/.test(e.message));
  await assert.rejects(hearth.loadModel(42), (e) => e instanceof TypeError && /loadModel: source/.test(e.message));
  await assert.rejects(hearth.loadModel(modelPath, { onProgress: 3 }), (e) => e instanceof TypeError && /options\.onProgress/.test(e.message));
});

test('init options: Node has no WebGPU (webgpu is BACKEND_UNAVAILABLE, auto says why), unknown backends and worker: true are argument errors', async () => {
  await assert.rejects(Hearth.init({ backend: 'webgpu' }),
    (e) => e instanceof HearthError && e.code === 'BACKEND_UNAVAILABLE' && /navigator\.gpu is undefined/.test(e.message));
  const auto = await Hearth.init();
  assert.equal(auto.backend, 'cpu');
  assert.match(auto.backendReason, /navigator\.gpu is undefined/);
  auto.dispose();
  await assert.rejects(Hearth.init({ backend: 'gpu' }), (e) => e instanceof RangeError && /options\.backend/.test(e.message));
  await assert.rejects(Hearth.init({ worker: true }), (e) => e instanceof RangeError && /options\.worker/.test(e.message));
  const h = await Hearth.init({ backend: 'cpu' });
  assert.equal(h.backend, 'cpu');
  h.dispose();
});

test('disposed models and instances reject with DISPOSED', async () => {
  const h = await Hearth.init();
  const model = await h.loadModel(modelPath);
  model.dispose();
  await assert.rejects(model.run({ features: { data: new Float32Array(17), dims: [1, 17] } }), (e) => e.code === 'DISPOSED');
  const m2 = await h.loadModel(modelPath);
  h.dispose();
  await assert.rejects(m2.run({ features: { data: new Float32Array(17), dims: [1, 17] } }), (e) => e.code === 'DISPOSED');
  await assert.rejects(h.loadModel(modelPath), (e) => e.code === 'DISPOSED');
});

test('recommender: cold start by popularity, profile fold-in, filters, similar, export and clear', async () => {
  const shop = await hearth.loadRecommender(shopBundle(), { name: 'node-test-shop' });
  assert.equal(shop.info.numItems, 8);
  assert.equal(shop.info.dim, 4);
  assert.deepEqual(shop.info.attribution, ['hearth-ml test catalog (synthetic)']);
  assert.equal((await shop.item('K2')).name, 'Kitchen thing 2');
  assert.equal(await shop.item('nope'), undefined);

  const cold = await shop.recommend({ k: 4 });
  assert.deepEqual(cold.map((r) => r.id).sort(), [...GARDEN].sort(), 'cold start: the popular Garden items');

  const me = await shop.profile();
  assert.equal(me.storage, 'memory');
  await me.clear();
  assert.equal(await me.record({ item: 'K1', event: 'purchase' }), true);
  assert.equal(await me.record({ item: 'K2', event: 'cart' }), true);
  const recs = await shop.recommend({ profile: me, k: 2 });
  assert.deepEqual(recs.map((r) => r.id).sort(), ['K3', 'K4'], 'kitchen buyer gets the other kitchen items, seen ones excluded');
  assert.ok(recs.every((r) => r.item.category === 'Kitchen' && r.because.length > 0 && r.because.every((b) => ['K1', 'K2'].includes(b))));
  const inStock = await shop.recommend({ profile: me, k: 2, filter: { inStock: true } });
  assert.ok(!inStock.some((r) => r.id === 'K4'), 'K4 is out of stock');
  const withSeen = await shop.recommend({ profile: me, k: 2, exclude: 'none' });
  assert.ok(withSeen.some((r) => r.id === 'K1' || r.id === 'K2'));
  const garden = await shop.recommend({ profile: me, k: 3, filter: { category: 'Garden' } });
  assert.ok(garden.length > 0 && garden.every((r) => r.item.category === 'Garden'));

  const alike = await shop.similar('G1', { k: 3 });
  assert.deepEqual(alike.map((r) => r.item.category), ['Garden', 'Garden', 'Garden']);
  assert.ok(!alike.some((r) => r.id === 'G1'));
  await assert.rejects(shop.similar('nope'), (e) => e instanceof HearthError && e.code === 'UNKNOWN_ITEM');

  const exported = JSON.parse(await me.export());
  assert.equal(exported.format, 'hearth-ml-profile');
  assert.deepEqual(exported.events.map((e) => [e.item, e.event]), [['K1', 'purchase'], ['K2', 'cart']]);
  assert.ok(exported.events.every((e) => typeof e.ts === 'number'));

  // a second profile() replays the stored events into a fresh engine profile
  const again = await shop.profile();
  assert.deepEqual((await shop.recommend({ profile: again, k: 2 })).map((r) => r.id).sort(), ['K3', 'K4']);

  await me.clear();
  assert.deepEqual(await me.events(), []);
  assert.deepEqual((await shop.recommend({ profile: me, k: 4 })).map((r) => r.id).sort(), [...GARDEN].sort(), 'cleared: cold start again');
  assert.deepEqual(await (await shop.profile()).events(), []);
});

test('recommender: argument and bundle errors', async () => {
  await assert.rejects(hearth.loadRecommender(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])), (e) => e instanceof HearthError && e.code === 'BUNDLE_INVALID');
  const shop = await hearth.loadRecommender(shopBundle());
  await assert.rejects(shop.profile(), (e) => e instanceof TypeError && /options\.name|name/.test(e.message));
  await assert.rejects(shop.recommend({ k: 0 }), (e) => e instanceof RangeError && /options\.k/.test(e.message));
  await assert.rejects(shop.recommend({ diversity: 2 }), (e) => e instanceof RangeError && /options\.diversity/.test(e.message));
  await assert.rejects(shop.recommend({ exclude: 'all' }), (e) => e instanceof RangeError && /options\.exclude/.test(e.message));
  await assert.rejects(shop.recommend({ events: [{ item: 3 }] }), (e) => e instanceof TypeError && /events\[0\]\.item/.test(e.message));
  const r = await shop.recommend({ events: [{ item: 'G1', event: 'purchase' }], k: 3 });
  assert.ok(r.every((x) => x.id.startsWith('G') && x.id !== 'G1'));
  assert.ok(KITCHEN.length === 4);
});

test('careless input: NaN and ±Infinity in float feeds are INPUT_VALUE naming the input and element, unless allowNonFinite', async () => {
  const model = await hearth.loadModel(modelPath);
  for (const [bad, at] of [[NaN, 20], [Infinity, 3], [-Infinity, 33]]) {
    const data = x.slice();
    data[at] = bad;
    data[33 - (at % 2)] = NaN; // a later bad value: the first one is named
    const first = Math.min(at, 33 - (at % 2));
    await assert.rejects(model.run({ features: { data, dims: [2, 17] } }), (e) => e instanceof HearthError && e.code === 'INPUT_VALUE'
      && e.message.includes(`input 'features': element ${first} ([${Math.floor(first / 17)}, ${first % 17}])`) && e.message.includes('allowNonFinite'));
  }
  const data = x.slice();
  data[5] = NaN;
  const out = await model.run({ features: { data, dims: [2, 17] } }, { allowNonFinite: true });
  // accepted: the run happens (this model's Relu maps the NaN to 0, so the output stays a number)
  assert.deepEqual(out.purchase_probability.dims, [2, 1]);
  assert.equal(out.purchase_probability.data.length, 2);
  await assert.rejects(model.run({ features: { data, dims: [2, 17] } }, { allowNonFinite: 'yes' }), (e) => e instanceof TypeError && /allowNonFinite/.test(e.message));
  // finite extremes are fine
  const big = x.slice(0, 17);
  big[0] = 3.4e38;
  big[1] = -0;
  await model.run({ features: { data: big, dims: [1, 17] } });
});

test('careless input: a missing model file in Node is NETWORK naming the path', async () => {
  const missing = path.join(root, 'models/no-such-model.onnx');
  await assert.rejects(hearth.loadModel(missing), (e) => e instanceof HearthError && e.code === 'NETWORK' && e.message.includes(missing) && /no such file/.test(e.message));
  await assert.rejects(hearth.loadModel(pathToFileURL(missing)), (e) => e instanceof HearthError && e.code === 'NETWORK' && e.message.includes(missing));
  await assert.rejects(hearth.loadRecommender(path.join(root, 'models')), (e) => e instanceof HearthError && e.code === 'NETWORK' && e.message.includes(path.join(root, 'models')));
});

test('careless input: record() of an unknown item or a kind without weight rejects and stores nothing', async () => {
  const shop = await hearth.loadRecommender(shopBundle(), { name: 'node-test-unknown' });
  const me = await shop.profile();
  await me.clear();
  assert.equal(await me.record({ item: 'K1', event: 'purchase' }), true);
  const before = await shop.recommend({ profile: me, k: 8, exclude: 'none' });
  await assert.rejects(me.record({ item: 'NOPE', event: 'view' }), (e) => e instanceof HearthError && e.code === 'UNKNOWN_ITEM' && e.message.includes("'NOPE'"));
  await assert.rejects(me.record({ item: 'K2', event: 'wishlist' }), (e) => e instanceof HearthError && e.code === 'ARGUMENT' && /wishlist.*weight/.test(e.message));
  await assert.rejects(me.record({ item: 'K2', event: 'view', weight: -1 }), (e) => e instanceof HearthError && e.code === 'ARGUMENT' && /weight -1/.test(e.message));
  assert.deepEqual((await me.events()).map((e) => e.item), ['K1'], 'nothing was stored');
  assert.deepEqual((await (await shop.profile()).events()).map((e) => e.item), ['K1'], 'nor replayed');
  assert.deepEqual(await shop.recommend({ profile: me, k: 8, exclude: 'none' }), before, 'the engine profile is unchanged');
  assert.equal(await me.record({ item: 'K2', event: 'wishlist', weight: 0.3 }), true, 'a kind without weight is fine with an explicit weight');
  await me.clear();
});

test('stores: a long history is compacted on open and scores like the full one', async () => {
  const foldIn = { alpha: 10, lambda: 0.1, halfLifeDays: 30, eventWeights: { view: 0.25, cart: 0.5, purchase: 1 } };
  const bytes = randomBundle(500, 16, 7, { foldIn });
  const shop = await hearth.loadRecommender(bytes, { name: 'node-test-long' });
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const kinds = ['view', 'view', 'view', 'cart', 'purchase'];
  const t0 = Date.UTC(2026, 0, 1);
  const n = 100_000;
  const events = Array.from({ length: n }, (_, i) => ({ item: `i${String(Math.floor(rnd() ** 3 * 500)).padStart(5, '0')}`, event: kinds[Math.floor(rnd() * 5)], ts: t0 + i * 60_000 }));
  const me = await shop.profile();
  await me.clear();
  // fill the store without 100,000 round trips: record a few, then the rest straight into memory
  const t1 = performance.now();
  for (const e of events.slice(0, 100)) await me.record(e);
  const recordMs = (performance.now() - t1) / 100;
  const { MemoryProfileStore } = await import('../dist/profile-store.js');
  const store = new MemoryProfileStore('node-test-long');
  for (const e of events.slice(100)) await store.add(e);
  const now = t0 + n * 60_000;
  const want = await shop.recommend({ events, k: 20, now });
  const t2 = performance.now();
  const loaded = await shop.profile();
  const firstOpenMs = performance.now() - t2;
  const stored = await loaded.events();
  assert.ok(stored.length <= 500 + 500, `compacted to ${stored.length} events`);
  assert.deepEqual(stored.slice(-500), events.slice(-500), 'the newest 500 events are kept as they were');
  const summaries = stored.filter((e) => e.event === 'summary');
  assert.equal(summaries.reduce((a, e) => a + e.count, 0), n - 500, 'the summaries count every older event');
  const got = await shop.recommend({ profile: loaded, k: 20, now });
  assert.deepEqual(got.map((r) => r.id), want.map((r) => r.id), 'the compacted profile recommends what the full history does');
  got.forEach((r, i) => assert.ok(Math.abs(r.score - want[i].score) <= 1e-4 * Math.max(1, Math.abs(want[i].score)), `${r.id}: ${r.score} vs ${want[i].score}`));
  const t3 = performance.now();
  const again = await shop.profile();
  const reopenMs = performance.now() - t3;
  assert.equal((await again.events()).length, stored.length, 'a compacted history is not compacted again');
  console.log(`# profile (memory store, Node): record ${recordMs.toFixed(3)} ms/event; open with ${n} events (compacts) ${firstOpenMs.toFixed(1)} ms; reopen (${stored.length} events) ${reopenMs.toFixed(1)} ms`);
  await loaded.clear();
});

test('inline: a wasm trap rejects that call with WORKER_CRASHED; the next call runs on a fresh instance with models, recommenders and profiles reloaded', async () => {
  const h = await Hearth.init();
  const model = await h.loadModel(modelPath);
  const shop = await h.loadRecommender(shopBundle(), { name: 'node-test-trap' });
  const me = await shop.profile();
  await me.clear();
  await me.record({ item: 'K1', event: 'purchase' });
  await me.record({ item: 'G2', event: 'view' });
  const feeds = () => ({ features: { data: x.slice(), dims: [2, 17] } });
  const want = await model.run(feeds());
  const wantRecs = await shop.recommend({ profile: me, k: 4 });
  const otherModel = await hearth.loadModel(modelPath);
  const wantOther = await otherModel.run(feeds());
  // count how the engine remakes its objects, and trap once in Session.run, as a Rust panic
  // (an `unreachable` instruction) would
  const made = { sessions: 0, recommenders: 0, replayed: 0 };
  const { fromBytes } = glue.Session;
  const recFromBytes = glue.Recommender.fromBytes;
  const { recordMany } = glue.Profile.prototype;
  const { run } = glue.Session.prototype;
  glue.Session.fromBytes = function (...a) { made.sessions++; return fromBytes.apply(this, a); };
  glue.Recommender.fromBytes = function (...a) { made.recommenders++; return recFromBytes.apply(this, a); };
  glue.Profile.prototype.recordMany = function (events) { made.replayed += events.length; return recordMany.call(this, events); };
  glue.Session.prototype.run = function () { glue.Session.prototype.run = run; throw new WebAssembly.RuntimeError('unreachable'); };
  try {
    await assert.rejects(model.run(feeds()), (e) => e instanceof HearthError && e.code === 'WORKER_CRASHED'
      && /trapped \(unreachable\); the next call runs on a fresh instance/.test(e.message));
    assert.deepEqual(made, { sessions: 0, recommenders: 0, replayed: 0 }, 'nothing is remade before the next call');
    const got = await model.run(feeds());
    assert.deepEqual([...got.purchase_probability.data], [...want.purchase_probability.data], 'identical results on the fresh instance');
    assert.ok(made.sessions >= 1, 'the model was reloaded from its bytes');
    assert.ok(made.recommenders >= 1, 'the recommender was reloaded from its bytes');
    assert.ok(made.replayed >= 2, "the profile's events were replayed");
    assert.deepEqual(await shop.recommend({ profile: me, k: 4 }), wantRecs, 'the profile recommends as before');
    await me.record({ item: 'K2', event: 'cart' });
    assert.deepEqual((await me.events()).map((e) => e.item), ['K1', 'G2', 'K2']);
    // another Hearth instance shares the wasm instance: its models were remade too
    assert.deepEqual([...(await otherModel.run(feeds())).purchase_probability.data], [...wantOther.purchase_probability.data]);
  } finally {
    Object.assign(glue.Session, { fromBytes });
    glue.Recommender.fromBytes = recFromBytes;
    glue.Profile.prototype.recordMany = recordMany;
    glue.Session.prototype.run = run;
    await me.clear();
    h.dispose();
  }
});

/** Polls `f` until it returns without throwing (another copy applies events asynchronously). */
async function eventually(f, ms = 5000) {
  const t = Date.now();
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() - t > ms) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

function sameRecs(got, want, what) {
  assert.deepEqual(got.map((r) => r.id), want.map((r) => r.id), `${what}: ids`);
  got.forEach((r, i) => assert.ok(Math.abs(r.score - want[i].score) <= 1e-5 * Math.max(1, Math.abs(want[i].score)), `${what}: ${r.id}: ${r.score} vs ${want[i].score}`));
}

test('stores: recording compacts the history as it grows; the reopened profile scores like the full history', async () => {
  const foldIn = { alpha: 10, lambda: 0.1, halfLifeDays: 30, eventWeights: { view: 0.25, cart: 0.5, purchase: 1 } };
  const bytes = randomBundle(300, 16, 11, { foldIn });
  const shop = await hearth.loadRecommender(bytes, { name: 'node-test-write-compact' });
  const { MemoryProfileStore, COMPACT_ON_WRITE_AT, KEEP_RECENT_ON_WRITE, PACK_AT } = await import('../dist/profile-store.js');
  const store = new MemoryProfileStore('node-test-write-compact');
  const me = await shop.profile();
  await me.clear();
  let s = 99;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const kinds = ['view', 'view', 'view', 'cart', 'purchase'];
  const t0 = Date.UTC(2026, 0, 1);
  const n = 6000;
  const events = Array.from({ length: n }, (_, i) => ({ item: `i${String(Math.floor(rnd() ** 2 * 300)).padStart(5, '0')}`, event: kinds[Math.floor(rnd() * 5)], ts: t0 + i * 60_000 }));
  let most = 0;
  const t1 = performance.now();
  for (let i = 0; i < n; i++) {
    await me.record(events[i]);
    if (i % 25 === 0) most = Math.max(most, (await store.all()).length);
  }
  const recordMs = (performance.now() - t1) / n;
  const stored = await store.all();
  assert.ok(most <= COMPACT_ON_WRITE_AT + PACK_AT, `the store held ${most} events (at most ${COMPACT_ON_WRITE_AT} packed, summaries included, and ${PACK_AT} loose)`);
  const raw = stored.filter((e) => e.event !== 'summary');
  assert.ok(raw.length >= KEEP_RECENT_ON_WRITE, `${raw.length} raw events kept`);
  assert.deepEqual(raw, events.slice(-raw.length), 'the newest events are kept as they were');
  assert.equal(stored.filter((e) => e.event === 'summary').reduce((a, e) => a + e.count, 0) + raw.length, n, 'every event is counted once');
  const now = t0 + n * 60_000;
  const want = await shop.recommend({ events, k: 20, now });
  sameRecs(await shop.recommend({ profile: me, k: 20, now }), want, 'the recording profile');
  const t2 = performance.now();
  const reopened = await shop.profile();
  const openMs = performance.now() - t2;
  sameRecs(await shop.recommend({ profile: reopened, k: 20, now }), want, 'the reopened (compacted) profile');
  console.log(`# profile (memory store, Node): ${n} records with compaction on write ${recordMs.toFixed(3)} ms/event; store at most ${most} events; reopen (${stored.length} events) ${openMs.toFixed(1)} ms`);
  await reopened.clear();
});

test('live sync: open copies of one profile (one in another Hearth instance, as another tab) fold in each other\'s new events, none lost or doubled; clear reaches them', async () => {
  const foldIn = { alpha: 10, lambda: 0.1, eventWeights: { view: 0.25, cart: 0.5, purchase: 1 } };
  const bytes = randomBundle(200, 16, 5, { foldIn });
  const other = await Hearth.init();
  const shops = [await hearth.loadRecommender(bytes, { name: 'node-test-live' }), await other.loadRecommender(bytes, { name: 'node-test-live' })];
  const a = await shops[0].profile();
  await a.clear();
  await a.record({ item: 'i00001', event: 'cart', ts: 1000 });
  const b = await shops[1].profile(); // reads that event from the store: it must not come twice
  const c = await shops[0].profile(); // a second copy in the same instance
  const copies = [a, b, c];
  for (let i = 0; i < 30; i++) {
    const p = copies[i % 3];
    await p.record({ item: `i${String((i * 7) % 200).padStart(5, '0')}`, event: i % 4 ? 'view' : 'purchase', ts: 2000 + i });
  }
  const stored = await a.events();
  assert.equal(stored.length, 31);
  const want = await shops[0].recommend({ events: stored, k: 10, exclude: 'none' });
  for (const [k, p] of copies.entries()) {
    await eventually(async () => sameRecs(await shops[k === 1 ? 1 : 0].recommend({ profile: p, k: 10, exclude: 'none' }), want, `copy ${k}`));
  }
  await b.clear();
  const cold = await shops[0].recommend({ k: 10, exclude: 'none' });
  await eventually(async () => sameRecs(await shops[0].recommend({ profile: a, k: 10, exclude: 'none' }), cold, 'copy 0 after clear'));
  await eventually(async () => sameRecs(await shops[0].recommend({ profile: c, k: 10, exclude: 'none' }), cold, 'copy 2 after clear'));
  // after a clear the store's keys start again: new events still reach the other copies
  await a.record({ item: 'i00003', event: 'purchase', ts: 5000 });
  const after = await shops[1].recommend({ events: [{ item: 'i00003', event: 'purchase', ts: 5000 }], k: 10, exclude: 'none' });
  await eventually(async () => sameRecs(await shops[1].recommend({ profile: b, k: 10, exclude: 'none' }), after, 'copy 1 after clear and record'));
  await a.clear();
  copies.forEach((p) => p.dispose());
  other.dispose?.();
});

test('live sync: an event announced while a copy reads the store is applied once: only keys newer than the read', async () => {
  const { LiveSync } = await import('../dist/live-sync.js');
  const name = 'hearth-ml-profile:node-test-live-keys';
  const sync = new LiveSync(name); // listening, not yet started: messages wait
  const other = new BroadcastChannel(name);
  // key 1 was stored before this copy's read (the read saw it), key 2 after
  other.postMessage({ kind: 'add', key: 1, value: 'in the read' });
  other.postMessage({ kind: 'add', key: 2, value: 'after the read' });
  await new Promise((r) => setTimeout(r, 50));
  const applied = [];
  let cleared = 0;
  sync.start(1, async (v) => applied.push(v), async () => cleared++);
  await sync.settled();
  assert.deepEqual(applied, ['after the read']);
  // a clear resets the floor: the new database's keys start again from 1
  other.postMessage({ kind: 'clear' });
  other.postMessage({ kind: 'add', key: 1, value: 'after the clear' });
  await eventually(async () => {
    await sync.settled();
    assert.deepEqual(applied, ['after the read', 'after the clear']);
  });
  assert.equal(cleared, 1);
  other.close();
  sync.close();
});
