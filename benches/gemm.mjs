// GEMM micro-benchmark in wasm: GFLOP/s of f32 C = A·B at 64/256/512/1024 cubed and GOP/s of
// int8 (MatMulInteger, uint8 × int8 → int32) at 256/512, for Hearth's CPU build, onnxruntime-web
// (wasm, 1 thread, SIMD) and RTen (when benches/rten/build.sh has built it), each through a
// one-node ONNX model (A an input, B a constant: the engine may pre-pack B at load). Beside
// them, the machine's single-core SIMD128 f32 peak measured with a mul + add loop (SIMD128 has
// no FMA): 12 independent chains `a = a·m + c` of f32x4, 8 steps per iteration, written here as
// raw wasm bytes so no assembler is needed.
//
//   node benches/gemm.mjs            [--hearth DIR] [--models DIR] [--rten DIR] [--smoke]
//
// Fresh A for every run (outside the timed region); medians of runs alternating engines.
import { readFileSync, existsSync } from 'node:fs';
import v8 from 'node:v8';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const smoke = args.includes('--smoke');
const cache = process.env.HEARTH_CACHE || path.join(homedir(), '.cache/hearth');
const hearthDir = path.resolve(opt('--hearth', path.join(here, '../pkg/wasm')));
const modelsDir = path.resolve(opt('--models', path.join(cache, 'bench-models')));
const rtenDir = path.resolve(opt('--rten', path.join(cache, 'rten-wasm')));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };

// ---------- peak: a hand-assembled wasm module ----------
function peakModule(chains = 12, steps = 8) {
  const leb = (n) => { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return out; };
  const simd = (op) => [0xfd, ...leb(op)];
  const F32X4_SPLAT = 0x13, EXTRACT = 0x1f, ADD = 0xe4, MUL = 0xe6;
  const f32 = (v) => { const b = new Uint8Array(4); new DataView(b.buffer).setFloat32(0, v, true); return [0x43, ...b]; };
  // locals: 0 = n (param), 1 = m, 2 = c, 3.. = accumulators
  const body = [];
  body.push(...f32(0.999), ...simd(F32X4_SPLAT), 0x21, 1);
  body.push(...f32(0.001), ...simd(F32X4_SPLAT), 0x21, 2);
  for (let i = 0; i < chains; i++) body.push(...f32(0.1 * i), ...simd(F32X4_SPLAT), 0x21, 3 + i);
  body.push(0x02, 0x40, 0x03, 0x40); // block, loop
  body.push(0x20, 0, 0x45, 0x0d, 1); // br_if outer when n == 0
  for (let s = 0; s < steps; s++) {
    for (let i = 0; i < chains; i++) {
      body.push(0x20, 3 + i, 0x20, 1, ...simd(MUL), 0x20, 2, ...simd(ADD), 0x21, 3 + i);
    }
  }
  body.push(0x20, 0, 0x41, 1, 0x6b, 0x21, 0, 0x0c, 0, 0x0b, 0x0b); // n -= 1; br loop; end; end
  body.push(0x20, 3);
  for (let i = 1; i < chains; i++) body.push(0x20, 3 + i, ...simd(ADD));
  body.push(...simd(EXTRACT), 0, 0x0b);
  const locals = [2, 2, 0x7b, ...leb(chains), 0x7b]; // 2 groups: (2 × v128) (chains × v128)
  const fn = [...locals, ...body];
  const sec = (id, bytes) => [id, ...leb(bytes.length), ...bytes];
  const bytes = [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...sec(1, [1, 0x60, 1, 0x7f, 1, 0x7d]),
    ...sec(3, [1, 0]),
    ...sec(7, [1, 3, ...[...'run'].map((c) => c.charCodeAt(0)), 0, 0]),
    ...sec(10, [1, ...leb(fn.length), ...fn])];
  return { bytes: new Uint8Array(bytes), flopsPerIter: chains * steps * 2 * 4 };
}

function peak() {
  const { bytes, flopsPerIter } = peakModule();
  // straight to the optimizing tier: one long call would otherwise stay in the baseline
  // compiler (Liftoff), which keeps every local in memory
  v8.setFlagsFromString('--no-liftoff');
  const { run } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  v8.setFlagsFromString('--liftoff');
  const iters = smoke ? 1000 : 2_000_000;
  run(iters); // compile tier-up
  const times = [];
  for (let r = 0; r < (smoke ? 1 : 15); r++) {
    const t0 = performance.now();
    run(iters);
    times.push(performance.now() - t0);
  }
  return (flopsPerIter * iters) / (Math.min(...times) * 1e6);
}

// ---------- engines ----------
async function engines() {
  const out = [];
  const hg = await import(pathToFileURL(path.join(hearthDir, 'hearth-cpu.js')).href);
  hg.initSync({ module: readFileSync(path.join(hearthDir, 'hearth-cpu_bg.wasm')) });
  out.push({ name: 'hearth', open: (b) => { const s = hg.Session.fromBytes(b); return (feeds) => s.run(feeds).c.data; } });
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  out.push({
    name: 'ort',
    open: async (b) => {
      const s = await ort.InferenceSession.create(b, { executionProviders: ['wasm'] });
      return async (feeds) => (await s.run({ a: new ort.Tensor(feeds.a.type, feeds.a.data, feeds.a.dims) })).c.data;
    },
  });
  if (existsSync(path.join(rtenDir, 'rten.js'))) {
    const rg = await import(pathToFileURL(path.join(rtenDir, 'rten.js')).href);
    rg.initSync({ module: readFileSync(path.join(rtenDir, 'rten_bg.wasm')) });
    out.push({
      name: 'rten',
      open: (b) => {
        const m = new rg.Model(b);
        const [inp] = m.inputIds(), [o] = m.outputIds();
        return (feeds) => {
          const a = feeds.a;
          // RTen's JS API takes float or int32 tensors; uint8 A goes in as int32
          if (a.type !== 'float32') throw new Error('RTen 0.27 JS API has no uint8 tensor (MatMulInteger input)');
          const t = rg.Tensor.floatTensor(a.dims, a.data);
          const [r] = m.run(Uint32Array.of(inp), [t], Uint32Array.of(o));
          const d = r.floatData() ?? r.intData();
          r.free();
          return d;
        };
      },
    });
  }
  return out;
}

let seed = 99;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 4294967296; };

async function main() {
  const pk = peak();
  console.log(`SIMD128 f32 peak (mul + add, 1 core): ${pk.toFixed(1)} GFLOP/s`);
  const eng = await engines();
  const cases = [64, 256, 512, 1024].map((n) => ({ n, file: `gemm_${n}.onnx`, type: 'float32' }))
    .concat([256, 512].map((n) => ({ n, file: `gemm_int8_${n}.onnx`, type: 'uint8' })));
  const rows = [];
  let failed = 0;
  for (const c of cases) {
    const bytes = new Uint8Array(readFileSync(path.join(modelsDir, c.file)));
    const feeds = () => ({ a: { type: c.type, dims: [c.n, c.n], data: c.type === 'float32' ? Float32Array.from({ length: c.n * c.n }, () => rnd() * 2 - 1) : Uint8Array.from({ length: c.n * c.n }, () => Math.floor(rnd() * 256)) } });
    const runners = [];
    for (const e of eng) {
      try { runners.push({ name: e.name, run: await e.open(bytes) }); } catch (err) { console.log(`${c.file}: ${e.name} does not load: ${String(err.message ?? err).slice(0, 120)}`); }
    }
    // agreement with onnxruntime-web (exact for int8; f32 within 1e-4 of the largest value)
    const f = feeds();
    const ref = await runners.find((r) => r.name === 'ort').run(f);
    let scale = 0;
    for (const v of ref) scale = Math.max(scale, Math.abs(Number(v)));
    for (const r of runners.filter((r) => r.name !== 'ort')) {
      let got;
      try { got = await r.run(f); } catch (err) {
        // RTen's JS API has no uint8 tensors
        console.log(`${c.file}: ${r.name} does not run: ${String(err.message ?? err).slice(0, 120)}`);
        runners.splice(runners.indexOf(r), 1);
        if (r.name === 'hearth') failed++;
        continue;
      }
      let bad = got.length !== ref.length;
      for (let i = 0; !bad && i < ref.length; i++) {
        const d = Math.abs(Number(got[i]) - Number(ref[i]));
        bad = c.type === 'float32' ? !(d <= 1e-4 * scale) : d !== 0;
      }
      if (bad) { console.log(`DISAGREE ${c.file}: ${r.name}`); if (r.name === 'hearth') failed++; }
    }
    const iters = smoke ? 1 : Math.max(6, Math.min(200, Math.round(2e9 / (2 * c.n ** 3))));
    // warm-up: at least 2 runs per engine and 1.5 s in all, so that every engine's kernels are
    // on the engine's optimizing tier before timing (with 2 runs only, 256³ was timed on
    // baseline code: Hearth 4.77 GFLOP/s in the bench, 35.4 with this warm-up, 32 in a lone warm
    // process)
    if (!smoke) {
      const until = performance.now() + 1500;
      for (let i = 0; i < 2 || performance.now() < until; i++) {
        const fd = feeds();
        for (const r of runners) await r.run(fd);
      }
    }
    const times = Object.fromEntries(runners.map((r) => [r.name, []]));
    for (let i = 0; i < iters; i++) {
      const fd = feeds();
      for (const r of i % 2 ? [...runners].reverse() : runners) {
        const t0 = performance.now();
        await r.run(fd);
        times[r.name].push(performance.now() - t0);
      }
    }
    const row = { case: `${c.type === 'float32' ? 'f32' : 'int8'} ${c.n}³` };
    for (const r of runners) row[r.name] = (2 * c.n ** 3) / (median(times[r.name]) * 1e6);
    rows.push(row);
    console.log(`${row.case}: ${runners.map((r) => `${r.name} ${row[r.name].toFixed(2)}`).join(', ')} G${c.type === 'float32' ? 'FLOP' : 'OP'}/s${c.type === 'float32' ? `; hearth at ${(100 * row.hearth / pk).toFixed(0)}% of peak` : ''}`);
  }
  let md = `| case | ${eng.map((e) => e.name).join(' | ')} | Hearth / peak |\n|---|${eng.map(() => '---|').join('')}---|\n`;
  for (const r of rows) md += `| ${r.case} | ${eng.map((e) => (r[e.name] ? r[e.name].toFixed(2) : '–')).join(' | ')} | ${r.case.startsWith('f32') ? `${(100 * r.hearth / pk).toFixed(0)}%` : '–'} |\n`;
  console.log(`\nSIMD128 f32 peak (1 core, mul + add): ${pk.toFixed(1)} GFLOP/s\n\n${md}`);
  if (failed) process.exit(1);
}

await main();
