// The benchmark cases in headless Chromium (Debian's chromium via playwright-core): Hearth's CPU
// wasm and its CPU + WebGPU build (pkg/wasm/hearth.js, session on 'webgpu') beside onnxruntime-web's wasm and webgpu backends,
// on a page served from 127.0.0.1. Chromium runs with --enable-unsafe-webgpu; on these machines
// the WebGPU adapter is SwiftShader, a CPU emulation: its times are software-GPU times and the
// report labels them so.
//
//   npm run bench:browser --prefix benches            writes results/browser.{json,md}
//   npm run bench:browser --prefix benches -- --smoke one run per case; exits 1 on disagreement
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const smoke = process.argv.includes('--smoke');
const models = path.join(process.env.HEARTH_CACHE || path.join(homedir(), '.cache/hearth'), 'bench-models');
const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const p = decodeURIComponent(url.pathname);
  const file = p.startsWith('/models/') ? path.join(models, p.slice(8)) : path.join(root, p);
  if (p === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><title>hearth bench</title>'); return; }
  if (!(file.startsWith(root) || file.startsWith(models)) || !existsSync(file)) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
  res.end(await readFile(file));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'],
});
const page = await browser.newPage();
page.on('console', (m) => { if (m.type() === 'error') console.error('page:', m.text()); });
await page.goto(base + '/');

const report = await page.evaluate(async ({ smoke, hasGpuBuild }) => {
  let seed = 12345;
  const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 4294967296; };
  const f32 = (dims) => ({ type: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rnd() * 2 - 1) });
  const ids = (dims, n) => ({ type: 'int64', dims, data: BigInt64Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => BigInt(Math.floor(rnd() * n))) });
  const CASES = [
    { name: 'mlp_b1', model: 'mlp.onnx', feeds: () => ({ x: f32([1, 64]) }) },
    { name: 'mlp_b64', model: 'mlp.onnx', feeds: () => ({ x: f32([64, 64]) }) },
    { name: 'cnn_lenet', model: 'cnn.onnx', feeds: () => ({ x: f32([1, 1, 28, 28]) }) },
    { name: 'lstm_kt_200', model: 'lstm.onnx', feeds: () => ({ ids: ids([1, 200], 100) }) },
    { name: 'gru_next_item', model: 'gru.onnx', feeds: () => ({ ids: ids([1, 20], 1000) }) },
    { name: 'rec_top10_100k', model: 'rec.onnx', feeds: () => ({ user: f32([1, 64]) }), recommender: true },
  ];
  const bytes = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());

  const adapter = navigator.gpu ? await navigator.gpu.requestAdapter() : null;
  const gpu = adapter ? { vendor: adapter.info?.vendor, architecture: adapter.info?.architecture, description: adapter.info?.description, fallback: adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter } : null;

  const hearth = await import('/pkg/wasm/hearth-cpu.js');
  await hearth.default();
  const { safetensors } = await import('/tests/wasm/bundle.mjs');
  const ort = await import('/benches/node_modules/onnxruntime-web/dist/ort.all.min.mjs');
  ort.env.wasm.wasmPaths = '/benches/node_modules/onnxruntime-web/dist/';
  ort.env.wasm.numThreads = 1;

  const ortOpen = async (buf, ep) => {
    const s = await ort.InferenceSession.create(buf, { executionProviders: [ep] });
    return {
      run: async (feeds) => {
        const t = {};
        for (const [k, v] of Object.entries(feeds)) t[k] = new ort.Tensor(v.type, v.data, v.dims);
        const out = await s.run(t);
        const res = {};
        for (const [k, v] of Object.entries(out)) res[k] = { data: await v.getData(), dims: v.dims };
        return res;
      },
      close: () => s.release(),
    };
  };
  // the CPU + WebGPU build, when scripts/build-wasm.sh made it: Session.create(bytes, 'webgpu')
  // and runAsync (readback awaits mapAsync)
  let gpuGlue = null;
  if (hasGpuBuild) { gpuGlue = await import('/pkg/wasm/hearth.js'); await gpuGlue.default(); }
  const hearthGpuOpen = async (buf) => {
    const s = await gpuGlue.Session.create(buf, 'webgpu');
    return { run: (feeds) => s.runAsync(feeds), close: () => s.free(), backend: s.backend };
  };
  const hearthOpen = (buf) => {
    const s = hearth.Session.fromBytes(buf);
    return { run: async (feeds) => s.run(feeds), close: () => s.free(), backend: s.backend };
  };
  // the recommender: the CPU build's recommendVector, or the GPU build's Recommender.create(…,
  // 'webgpu') with recommendVectorAsync (the top-k scan on the GPU, only k results read back)
  const recBundle = async () => {
    const table = new Float32Array((await bytes('/models/rec_items.f32')).buffer);
    const n = table.length / 64;
    return safetensors({ item_factors: { dtype: 'F32', shape: [n, 64], bytes: table, align: 4 } },
      { format: 'hearth.recommender', version: 1, dim: 64, items: Array.from({ length: n }, (_, i) => ({ id: String(i) })) });
  };
  const topOut = (top) => ({ top_scores: { data: Float32Array.from(top, (t) => t.score) }, top_items: { data: BigInt64Array.from(top, (t) => BigInt(t.id)) } });
  const recOpts = { k: 10, exclude: 'none', explain: 0 };
  const recOpen = async () => {
    const rec = hearth.Recommender.fromBytes(await recBundle());
    return { run: async (feeds) => topOut(rec.recommendVector(feeds.user.data, recOpts)), close: () => rec.free(), backend: 'cpu' };
  };
  const recGpuOpen = async () => {
    const rec = await gpuGlue.Recommender.create(await recBundle(), 'webgpu');
    return { run: async (feeds) => topOut(await rec.recommendVectorAsync(feeds.user.data, recOpts)), close: () => rec.free(), backend: rec.backend };
  };
  const agree = (ref, got) => {
    for (const [k, want] of Object.entries(ref)) {
      const g = got[k];
      if (!g) return `missing ${k}`;
      for (let i = 0; i < want.data.length; i++) {
        const a = Number(g.data[i]), b = Number(want.data[i]);
        const exact = typeof want.data[i] === 'bigint';
        if (exact ? a !== b : !(Math.abs(a - b) <= 1e-4 + 1e-3 * Math.abs(b))) return `${k}[${i}] = ${a}, expected ${b}`;
      }
    }
    return null;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const rows = [], problems = [];
  for (const c of CASES) {
    const buf = await bytes(`/models/${c.model}`);
    const engines = [];
    engines.push(['hearth-cpu', c.recommender ? await recOpen() : hearthOpen(buf)]);
    let hearthWebgpu = hasGpuBuild ? null : 'no WebGPU build';
    if (gpuGlue) {
      try {
        const e = c.recommender ? await recGpuOpen() : await hearthGpuOpen(buf);
        if (e.backend !== 'webgpu') { hearthWebgpu = `ran on ${e.backend}`; e.close(); } else engines.push(['hearth-webgpu', e]);
      } catch (e) { hearthWebgpu = `failed: ${e.message}`; problems.push(`${c.name}: hearth-webgpu: ${e.message}`); }
    }
    engines.push(['ort-wasm', await ortOpen(buf, 'wasm')]);
    try { engines.push(['ort-webgpu', await ortOpen(buf, 'webgpu')]); } catch (e) { problems.push(`${c.name}: ort-webgpu: ${e.message}`); }
    const feeds = c.feeds();
    const ref = await engines.find(([n]) => n === 'ort-wasm')[1].run(feeds);
    const row = { name: c.name, hearthWebgpu };
    for (const [name, e] of engines) {
      const err = agree(ref, await e.run(feeds));
      if (err) problems.push(`${c.name}: ${name} vs ort-wasm: ${err}`);
    }
    const iters = smoke ? 1 : 30, warm = smoke ? 0 : 5;
    const times = Object.fromEntries(engines.map(([n]) => [n, []]));
    for (let i = 0; i < warm + iters; i++) {
      const f = c.feeds();
      for (const [name, e] of i % 2 ? [...engines].reverse() : engines) {
        const t0 = performance.now();
        await e.run(f);
        if (i >= warm) times[name].push(performance.now() - t0);
      }
    }
    for (const [name, e] of engines) { row[name] = median(times[name]); e.close(); }
    rows.push(row);
  }
  return { gpu, rows, problems, userAgent: navigator.userAgent };
}, { smoke, hasGpuBuild: existsSync(path.join(root, 'pkg/wasm/hearth.js')) });

await browser.close();
server.close();

const gpuLabel = report.gpu ? `${report.gpu.vendor || '?'} ${report.gpu.architecture || ''} ${report.gpu.description || ''}`.trim() + (report.gpu.fallback ? ' (fallback adapter)' : '') : 'none';
const soft = /swiftshader/i.test(gpuLabel);
const fmt = (v) => (Number.isFinite(v) ? v.toFixed(3) : '–');
let md = `Headless Chromium (${report.userAgent.match(/Chrome\/[\d.]+/)?.[0]}), WebGPU adapter: ${gpuLabel}${soft ? ' — SwiftShader is a CPU emulation of a GPU: the webgpu column is software-GPU time, not GPU time' : ''}. Median ms per run, fresh input per run.\n\n`;
md += '| case | Hearth CPU (wasm SIMD) | Hearth WebGPU | ORT wasm | ORT webgpu | Hearth CPU / ORT wasm |\n|---|---|---|---|---|---|\n';
for (const r of report.rows) md += `| ${r.name} | ${fmt(r['hearth-cpu'])} | ${Number.isFinite(r['hearth-webgpu']) ? fmt(r['hearth-webgpu']) : r.hearthWebgpu} | ${fmt(r['ort-wasm'])} | ${fmt(r['ort-webgpu'])} | ${(r['hearth-cpu'] / r['ort-wasm']).toFixed(2)} |\n`;
if (report.problems.length) md += `\nProblems: ${report.problems.join('; ')}\n`;
console.log(md);
if (smoke) {
  console.log(`${report.rows.length - report.problems.length} passed, ${report.problems.length} failed`);
  process.exit(report.problems.length ? 1 : 0);
}
mkdirSync(path.join(here, '../results'), { recursive: true });
writeFileSync(path.join(here, '../results/browser.json'), JSON.stringify(report, null, 2) + '\n');
writeFileSync(path.join(here, '../results/browser.md'), md);
