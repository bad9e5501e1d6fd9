// Memory stays flat over 10,000 calls in the wasm build (issue 19): learner observe/next,
// recommend on a profile, and tabular model runs (a scikit-learn pipeline with string inputs and a
// ZipMap output; a random forest). Each case warms up first (every question answered once, the
// allocator's free lists filled), then asserts that the wasm memory (`memory.buffer.byteLength`,
// which grows by 64 KiB pages when the allocator runs out) is the same after 10,000 more calls:
// a leak that outgrows the heap's free space after warm-up fails (a smaller one can hide there).
// A control shows the probe sees a leak: 10,000 learners kept alive (about 5 KB each) grow it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hearth, root, wasm, readPbs } from './common.mjs';

const N = 10_000;
const heap = () => wasm.memory.buffer.byteLength;
const tracerBytes = readFileSync(path.join(root, 'tests/fixtures/education/tracer_sim.hearth'));
const cache = process.env.HEARTH_CACHE || path.join(os.homedir(), '.cache/hearth');
const DAY = 86_400_000;
// outputs as text (int64 labels are BigInts)
const text = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : ArrayBuffer.isView(x) ? Array.from(x, String) : x));

test('10,000 learner observe and next calls keep the wasm heap flat', () => {
  const t = hearth.Tracer.fromBytes(tracerBytes);
  const ids = t.questions().map((q) => q.id);
  const l = t.newLearner();
  let ts = 1.7e12;
  const step = (k) => {
    ts += DAY / 24; // answers an hour apart: always on or after each card's last review
    const o = l.observe(ids[(k * 7) % ids.length], (k * 2654435761) % 3 !== 0, ts);
    const n = l.next(k % 2 ? undefined : { k: 3, mode: 'assess' });
    return [o, n];
  };
  for (let k = 0; k < 2 * ids.length; k++) step(k); // every card exists, buffers at their size
  const h0 = heap();
  let last;
  for (let k = 0; k < N; k++) last = step(k);
  const h1 = heap();
  console.log(`# learner: ${N} observe + next: heap ${h0} → ${h1} B`);
  assert.equal(l.answered, N + 2 * ids.length);
  assert.ok(last[1].length >= 1 && Number.isFinite(last[0].pCorrectBefore), 'the calls answered');
  assert.equal(h1, h0, 'the wasm heap grew over observe/next');
  l.free();
  t.free();
});

test('10,000 recommend calls on a profile keep the wasm heap flat', (ctx) => {
  const file = path.join(cache, 'retail/eval.hearth');
  if (!existsSync(file)) { ctx.skip(`${file} is missing: scripts/test.sh builds it`); return; }
  const rec = hearth.Recommender.fromBytes(new Uint8Array(readFileSync(file)));
  const ids = rec.similar(rec.recommend({ k: 1 })[0].id, { k: 20 }).map((r) => r.id);
  const p = rec.newProfile();
  ids.forEach((id, i) => p.record({ item: id, event: i % 3 ? 'view' : 'purchase', ts: 1000 + i }));
  const call = (k) => p.recommend({ k: 10, diversity: (k % 4) / 4, exclude: 'seen' });
  for (let k = 0; k < 100; k++) call(k);
  const h0 = heap();
  let last;
  for (let k = 0; k < N; k++) last = call(k);
  const h1 = heap();
  console.log(`# recommend: ${N} calls (k 10, diversity 0–0.75): heap ${h0} → ${h1} B`);
  assert.equal(last.length, 10);
  assert.equal(h1, h0, 'the wasm heap grew over recommend');
  p.free();
  rec.free();
});

test('10,000 tabular model runs keep the wasm heap flat', (ctx) => {
  const dir = path.join(cache, 'tabular-models-v2');
  if (!existsSync(path.join(dir, 'manifest.json'))) { ctx.skip(`${dir} is missing: tests/wasm/tabular.test.mjs makes it`); return; }
  for (const name of ['column_transformer', 'random_forest']) {
    const d = path.join(dir, name);
    const s = hearth.Session.fromBytes(new Uint8Array(readFileSync(path.join(d, 'model.onnx'))));
    const feeds = {};
    for (const pb of readPbs(d, 'input')) { const t = hearth.decodeTensorProto(pb); feeds[t.name] = t; }
    const first = text(s.run(feeds));
    for (let k = 0; k < 100; k++) s.run(feeds);
    const h0 = heap();
    let out;
    for (let k = 0; k < N; k++) out = s.run(feeds);
    const h1 = heap();
    console.log(`# tabular ${name}: ${N} runs: heap ${h0} → ${h1} B`);
    assert.equal(text(out), first, `${name}: the last run differs from the first`);
    assert.equal(h1, h0, `${name}: the wasm heap grew over runs`);
    s.free();
  }
});

// the executor's buffer pool (src/tensor.rs `pool`) and in-place elementwise ops: a warm CNN run
// takes its large outputs from the buffers the last run freed, so the heap stays where the first
// runs left it
test('1,000 LeNet and 100 SqueezeNet runs keep the wasm heap flat', (ctx) => {
  const cases = [
    ['bench-models/cnn.onnx', 'x', [1, 1, 28, 28], 1000],
    ['onnx-1.17.0/light/light_squeezenet.onnx', 'data_0', [1, 3, 224, 224], 100],
  ];
  for (const [file, name, dims, runs] of cases) {
    const f = path.join(cache, file);
    if (!existsSync(f)) { ctx.skip(`${f} is missing: scripts/test.sh makes it`); return; }
    const s = hearth.Session.fromBytes(new Uint8Array(readFileSync(f)));
    const n = dims.reduce((a, b) => a * b, 1);
    const feeds = (k) => ({ [name]: { data: Float32Array.from({ length: n }, (_, i) => Math.sin(i + k)), dims } });
    for (let k = 0; k < 5; k++) s.run(feeds(k));
    const h0 = heap();
    let out;
    for (let k = 0; k < runs; k++) out = s.run(feeds(k % 7));
    const h1 = heap();
    console.log(`# ${file}: ${runs} warm runs: heap ${h0} → ${h1} B`);
    assert.equal(text(out), text(s.run(feeds((runs - 1) % 7))), `${file}: a repeated run differs`);
    assert.equal(h1, h0, `${file}: the wasm heap grew over warm runs`);
    s.free();
  }
});

// last: it leaves the heap grown, which would hide a leak in a case run after it
test('the heap probe sees a leak: 10,000 learners kept alive grow the heap', () => {
  const t = hearth.Tracer.fromBytes(tracerBytes);
  const h0 = heap();
  const kept = Array.from({ length: N }, () => t.newLearner());
  const h1 = heap();
  console.log(`# control: ${N} live learners: heap ${h0} → ${h1} B`);
  assert.ok(h1 > h0, `the heap did not grow (${h0} B) with ${N} live learners`);
  kept.forEach((l) => l.free());
  t.free();
});
