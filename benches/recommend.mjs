// Recommendation speed in the CPU wasm build (Node, one thread): score every item of the table
// for a fresh user vector and select the top 10, for 100k × 64 items as f32 / f16 / int8 and
// 1M × 64 items as int8. Beside each: the bytes the kernel must read and the time a single core
// needs to stream them (the memory-bandwidth bound), and the plain-JS loop for the f32 table.
//
//   node benches/recommend.mjs [--smoke] [--bandwidth GBps]
//
// The bandwidth defaults to a measurement made here: summing a 512 MB Float32Array with
// numpy (single thread) — pass --bandwidth to use another figure.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { safetensors } from '../tests/wasm/bundle.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const bwArg = args.indexOf('--bandwidth');
const glue = await import(pathToFileURL(path.join(here, '../pkg/wasm/hearth-cpu.js')).href);
glue.initSync({ module: readFileSync(path.join(here, '../pkg/wasm/hearth-cpu_bg.wasm')) });

let seed = 7;
const rnd = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 2 ** 32 * 2 - 1; };

function bundle(n, d, dtype) {
  const y = new Float32Array(n * d);
  for (let i = 0; i < y.length; i++) y[i] = rnd() * 0.3;
  const items = Array.from({ length: n }, (_, i) => ({ id: `i${i}` }));
  const manifest = { format: 'hearth.recommender', version: 1, dim: d, items };
  const t = {};
  if (dtype === 'f32') t.item_factors = { dtype: 'F32', shape: [n, d], bytes: y, align: 4 };
  if (dtype === 'f16') {
    const h = new Uint16Array(n * d);
    const f = new Float32Array(1), u = new Uint32Array(f.buffer);
    for (let i = 0; i < h.length; i++) { // round-to-nearest f32 → f16 for normal values
      f[0] = y[i];
      const x = u[0], sign = (x >>> 16) & 0x8000, e = ((x >>> 23) & 0xff) - 112, m = x & 0x7fffff;
      h[i] = e <= 0 ? sign : sign | ((e << 10) + ((m + 0x1000) >>> 13));
    }
    t.item_factors = { dtype: 'F16', shape: [n, d], bytes: h, align: 2 };
  }
  if (dtype === 'int8') {
    const q = new Int8Array(n * d), s = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      let m = 0;
      for (let k = 0; k < d; k++) m = Math.max(m, Math.abs(y[r * d + k]));
      s[r] = m / 127 || 1;
      for (let k = 0; k < d; k++) q[r * d + k] = Math.round(y[r * d + k] / s[r]);
    }
    t.item_factors = { dtype: 'I8', shape: [n, d], bytes: q, align: 1 };
    t.item_scales = { dtype: 'F32', shape: [n], bytes: s, align: 4 };
  }
  // a gramian is optional (computed at load); pass an identity-sized zero one to keep load fast
  t.gramian = { dtype: 'F32', shape: [d, d], bytes: new Float32Array(d * d), align: 4 };
  return { bytes: safetensors(t, manifest), y };
}

function jsTop10(y, d, x) {
  const n = y.length / d;
  const best = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += y[i * d + k] * x[k];
    if (best.length < 10 || s > best[9][0]) { best.push([s, i]); best.sort((a, b) => b[0] - a[0]); best.length = Math.min(best.length, 10); }
  }
  return best;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
function time(fn, iters) {
  const t = [];
  for (let i = 0; i < iters + 3; i++) {
    const t0 = performance.now();
    fn();
    if (i >= 3) t.push(performance.now() - t0);
  }
  return median(t);
}

function bandwidth() {
  if (bwArg >= 0) return Number(args[bwArg + 1]);
  const py = 'import numpy as np,time\na=np.ones(1<<27,dtype=np.float32)\na.sum()\nts=[]\nfor _ in range(5):\n t=time.perf_counter();a.sum();ts.append(time.perf_counter()-t)\nprint(a.nbytes/min(ts)/1e9)';
  try { return Number(execFileSync('python3', ['-c', py], { env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } }).toString()); } catch { return NaN; }
}

const d = 64;
const cases = smoke ? [[20_000, 'f32'], [20_000, 'int8']] : [[100_000, 'f32'], [100_000, 'f16'], [100_000, 'int8'], [1_000_000, 'int8']];
const gbps = smoke ? NaN : bandwidth();
const rows = [];
for (const [n, dtype] of cases) {
  const { bytes, y } = bundle(n, d, dtype);
  const rec = glue.Recommender.fromBytes(bytes);
  const x = () => Float32Array.from({ length: d }, rnd);
  // agreement with plain JS on the f32 table (exact top-10 ids)
  if (dtype === 'f32') {
    const q = x();
    const want = jsTop10(y, d, q).map((b) => `i${b[1]}`);
    const got = rec.recommendVector(q, { k: 10, exclude: 'none', explain: 0 }).map((r) => r.id);
    if (JSON.stringify(want) !== JSON.stringify(got)) throw new Error(`top-10 differs from plain JS: ${got} vs ${want}`);
  }
  const iters = smoke ? 3 : n >= 1_000_000 ? 20 : 60;
  const ms = time(() => rec.recommendVector(x(), { k: 10, exclude: 'none', explain: 0 }), iters);
  const tableBytes = n * d * { f32: 4, f16: 2, int8: 1 }[dtype] + (dtype === 'int8' ? 4 * n : 0);
  const bound = tableBytes / (gbps * 1e9) * 1e3;
  const js = dtype === 'f32' && !smoke ? time(() => jsTop10(y, d, x()), 10) : NaN;
  rows.push({ n, dtype, ms, tableBytes, boundMs: bound, gbpsAchieved: tableBytes / (ms / 1e3) / 1e9, js });
  rec.free();
  console.log(`${n} × ${d} ${dtype}: ${ms.toFixed(3)} ms (table ${(tableBytes / 1e6).toFixed(1)} MB; bandwidth bound ${bound.toFixed(3)} ms at ${gbps.toFixed(1)} GB/s; achieved ${(tableBytes / (ms / 1e3) / 1e9).toFixed(1)} GB/s)${Number.isFinite(js) ? `; plain JS ${js.toFixed(2)} ms` : ''}`);
}
// on-device personalization: one event folded in (O(d²) update) and the user vector solved
// (one d × d Cholesky), with a 50-event history, d = 64
{
  const n = 10_000;
  const y = new Float32Array(n * d).map(() => rnd() * 0.3);
  const g = new Float32Array(d * d);
  for (let j = 0; j < n; j++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) g[a * d + b] += y[j * d + a] * y[j * d + b];
  const items = Array.from({ length: n }, (_, i) => ({ id: `i${i}` }));
  const rec = glue.Recommender.fromBytes(safetensors({ item_factors: { dtype: 'F32', shape: [n, d], bytes: y, align: 4 }, gramian: { dtype: 'F32', shape: [d, d], bytes: g, align: 4 } },
    { format: 'hearth.recommender', version: 1, dim: d, items }));
  const p = rec.newProfile();
  let t = 0;
  for (let i = 0; i < 50; i++) p.record({ item: `i${(i * 37) % n}`, event: 'view', ts: i * 1000 });
  const rec1 = time(() => p.record({ item: `i${Math.floor((rnd() + 1) / 2 * n)}`, event: 'cart', ts: (t += 1000) + 1e6 }), smoke ? 3 : 200);
  const fold = time(() => p.vector(), smoke ? 3 : 200);
  const full = time(() => p.recommend({ k: 10 }), smoke ? 3 : 100);
  console.log(`profile (d = ${d}, ${n} items, 50+ events): record ${(rec1 * 1000).toFixed(1)} µs, fold-in solve ${(fold * 1000).toFixed(1)} µs, recommend with explanations ${full.toFixed(3)} ms`);
  rows.push({ profile: true, recordUs: rec1 * 1000, foldUs: fold * 1000, recommendMs: full });
  p.free();
  rec.free();
}
if (smoke) console.log(`${rows.length} passed, 0 failed`);
else console.log(JSON.stringify({ gbps, rows }));
