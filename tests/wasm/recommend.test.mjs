// The recommender in the wasm build: bundles written here in JS (an independent safetensors
// writer) scored against a brute-force f64 reference, typed errors, profiles, and the Online
// Retail bundle giving exactly the native build's top-10 lists for 500 customers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { hearth } from './common.mjs';
import { safetensors } from './bundle.mjs';

function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 * 2 - 1; };
}

const CATS = ['Kitchen', 'Garden', 'Toys'];
function makeBundle(n, d, { seed = 1, gramian = true } = {}) {
  const r = rng(seed);
  const y = new Float32Array(n * d).map(() => r() * 0.5);
  const items = Array.from({ length: n }, (_, i) => ({ id: `I${String(i).padStart(5, '0')}`, name: `item ${i}`, category: CATS[i % 3], price: i % 40, inStock: i % 4 !== 0 }));
  const pop = new Float32Array(n).map((_, i) => (i * 37) % 101);
  const tensors = {
    item_factors: { dtype: 'F32', shape: [n, d], bytes: y, align: 4 },
    popularity: { dtype: 'F32', shape: [n], bytes: pop, align: 4 },
  };
  if (gramian) {
    const g = new Float32Array(d * d);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) { let s = 0; for (let j = 0; j < n; j++) s += y[j * d + a] * y[j * d + b]; g[a * d + b] = s; }
    tensors.gramian = { dtype: 'F32', shape: [d, d], bytes: g, align: 4 };
  }
  const manifest = { format: 'hearth.recommender', version: 1, dim: d, items, foldIn: { alpha: 2, lambda: 0.5, eventWeights: { view: 0.25, cart: 0.5, purchase: 1 } }, attribution: ['synthetic test data'] };
  return { bytes: safetensors(tensors, manifest), y, items, pop };
}

test('SIMD128 scoring kernels are bit-identical to their scalar twins (inside wasm)', () => {
  assert.equal(hearth.recommendKernelCheckForTest(), 0);
});

test('top-k over a JS-written bundle matches a brute-force reference', () => {
  const n = 3000, d = 32;
  const { bytes, y, items } = makeBundle(n, d);
  const rec = hearth.Recommender.fromBytes(bytes);
  const info = rec.info();
  assert.equal(info.numItems, n);
  assert.equal(info.dim, d);
  assert.equal(info.dtype, 'f32');
  assert.deepEqual(info.categories, CATS);
  assert.deepEqual(info.attribution, ['synthetic test data']);
  assert.equal(rec.itemIds().length, n);
  assert.deepEqual(rec.item('I00007'), items[7]);
  assert.equal(rec.item('nope'), undefined);
  const r = rng(5);
  for (let t = 0; t < 10; t++) {
    const x = new Float32Array(d).map(() => r());
    const got = rec.recommendVector(x, { k: 15, filter: { category: 'Garden', inStock: true } });
    const want = [];
    for (let j = 0; j < n; j++) {
      if (items[j].category !== 'Garden' || !items[j].inStock) continue;
      let s = 0; for (let k = 0; k < d; k++) s += y[j * d + k] * x[k];
      want.push([items[j].id, s]);
    }
    want.sort((a, b) => b[1] - a[1]);
    assert.deepEqual(got.map((g) => g.id), want.slice(0, 15).map((w) => w[0]));
    got.forEach((g, i) => assert.ok(Math.abs(g.score - want[i][1]) < 1e-5, `${g.score} vs ${want[i][1]}`));
    assert.equal(got[0].item.category, 'Garden');
  }
  // batched equals single
  const users = new Float32Array(4 * d).map(() => r());
  const batch = rec.recommendBatch(users, 5);
  for (let u = 0; u < 4; u++) {
    const one = rec.recommendVector(users.subarray(u * d, (u + 1) * d), { k: 5, exclude: 'none' });
    assert.deepEqual(batch[u].map((b) => b.id), one.map((o) => o.id));
  }
  rec.free();
});

test('profiles fold in events, explain, filter, and clear', () => {
  const { bytes } = makeBundle(500, 16, { gramian: false });
  const rec = hearth.Recommender.fromBytes(bytes);
  const cold = rec.recommend({ k: 5 });
  assert.deepEqual(cold.map((c) => c.id), rec.recommend({ events: [], k: 5 }).map((c) => c.id));
  cold.forEach((c) => assert.deepEqual(c.because, []));
  const p = rec.newProfile();
  assert.equal(p.record({ item: 'I00003', event: 'view', ts: 1000 }), true);
  assert.equal(p.record({ item: 'not-in-catalog', event: 'view' }), false);
  assert.equal(p.recordMany([{ item: 'I00006', event: 'purchase', ts: 2000 }, { item: 'I00009', event: 'cart', ts: 3000 }]), 2);
  assert.equal(p.size, 4);
  const recs = p.recommend({ k: 8 });
  const stateless = rec.recommend({ k: 8, events: p.events() });
  assert.deepEqual(recs, stateless);
  for (const r of recs) {
    assert.ok(!['I00003', 'I00006', 'I00009'].includes(r.id), 'seen items are excluded');
    assert.ok(r.because.length >= 1 && r.because.every((b) => ['I00003', 'I00006', 'I00009'].includes(b)));
  }
  assert.equal(p.vector().length, 16);
  const div = p.recommend({ k: 8, diversity: 0.8 });
  assert.equal(div.length, 8);
  const sim = rec.similar('I00003', { k: 4 });
  assert.equal(sim.length, 4);
  assert.ok(!sim.some((s) => s.id === 'I00003'));
  p.clear();
  assert.equal(p.size, 0);
  assert.equal(p.vector(), undefined);
  assert.deepEqual(p.recommend({ k: 5 }).map((c) => c.id), cold.map((c) => c.id));
  p.free();
  rec.free();
});

test('bad bundles and bad arguments throw typed errors', () => {
  const { bytes } = makeBundle(50, 8);
  const codeOf = (f) => { try { f(); } catch (e) { return e.code; } return 'no error'; };
  assert.equal(codeOf(() => hearth.Recommender.fromBytes(new Uint8Array([1, 2, 3]))), 'BUNDLE_INVALID');
  for (const cut of [0, 8, 100, bytes.length - 1]) {
    assert.equal(codeOf(() => hearth.Recommender.fromBytes(bytes.subarray(0, cut))), 'BUNDLE_INVALID');
  }
  const rec = hearth.Recommender.fromBytes(bytes);
  assert.equal(codeOf(() => rec.recommend({ k: 0 })), 'ARGUMENT');
  assert.equal(codeOf(() => rec.recommend({ exclude: 'everything' })), 'ARGUMENT');
  assert.equal(codeOf(() => rec.recommend({ filter: { category: 'Nope' } })), 'ARGUMENT');
  assert.equal(codeOf(() => rec.recommend({ events: [{ item: 'I00001' }] })), 'ARGUMENT');
  assert.equal(codeOf(() => rec.recommend({ events: [{ item: 'I00001', event: 'wish' }] })), 'ARGUMENT');
  assert.equal(codeOf(() => rec.recommendVector(new Float32Array(3), {})), 'ARGUMENT');
  assert.equal(codeOf(() => rec.similar('nope', {})), 'UNKNOWN_ITEM');
  // a wrong field's error names its path and what was expected
  const messageOf = (f) => { try { f(); } catch (e) { return `${e.code}: ${e.message}`; } return 'no error'; };
  assert.match(messageOf(() => rec.recommend({ filter: { priceMin: 'cheap' } })), /^ARGUMENT: options\.filter\.priceMin: .*expected f64/);
  assert.match(messageOf(() => rec.recommend({ boost: { I00001: 'lots' } })), /^ARGUMENT: options\.boost\.I00001: .*expected f32/);
  assert.match(messageOf(() => rec.recommend({ allow: 7 })), /^ARGUMENT: options\.allow: .*a string or an array of strings/);
  assert.match(messageOf(() => rec.recommend({ events: [{ event: 'view' }] })), /^ARGUMENT: options\.events\[0\]: missing field `item`/);
  // null and undefined read as absent
  assert.equal(rec.recommend({ k: 3, allow: null, filter: { category: undefined }, boost: null }).length, 3);
  const p = rec.newProfile();
  assert.match(messageOf(() => p.record({ item: 'I00001', event: 'view', weight: 'heavy' })), /^ARGUMENT: event\.weight: /);
  assert.equal(p.size, 0, 'a rejected event is not recorded');
  assert.match(messageOf(() => p.recordMany([{ item: 'I00001', event: 'view' }, { item: 2 }])), /^ARGUMENT: events\[1\]\.item: /);
  assert.equal(p.size, 0, 'recordMany checks every event before recording any');
  p.free();
  rec.free();
});

const retail = process.env.HEARTH_RETAIL_DIR || path.join(process.env.HEARTH_CACHE || path.join(process.env.HOME, '.cache/hearth'), 'retail');
test('Online Retail: wasm top-10 lists equal the native build for 500 customers', () => {
  const lists = path.join(retail, 'lists.json');
  assert.ok(existsSync(lists), `${lists} is missing: scripts/test.sh makes it with 'hearth recommender eval --lists-out'`);
  const cases = JSON.parse(readFileSync(lists, 'utf8'));
  assert.equal(cases.length, 500);
  const rec = hearth.Recommender.fromBytes(new Uint8Array(readFileSync(path.join(retail, 'eval.hearth'))));
  let same = 0;
  const diffs = [];
  for (const c of cases) {
    const got = rec.recommend({ events: c.events, k: 20, explain: 0 }).slice(0, 10).map((r) => r.id);
    if (JSON.stringify(got) === JSON.stringify(c.top10)) same++;
    else diffs.push(c.customer);
  }
  assert.equal(same, 500, `customers whose lists differ: ${diffs.slice(0, 10)}`);
  rec.free();
});
