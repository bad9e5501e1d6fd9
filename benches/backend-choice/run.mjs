// Times matmul shapes Hearth sends to burn (MLP layers at batch 1 and 64, a LeNet conv GEMM,
// the LSTM input projection) in each backend's wasm build. Usage: node run.mjs flex.wasm ndarray.wasm
import { readFileSync } from 'node:fs';
const shapes = [[1, 64, 256], [1, 256, 256], [64, 256, 256], [64, 64, 256], [16, 150, 576], [400, 64, 256]];
const builds = {};
for (const f of process.argv.slice(2)) {
  // getrandom's wasm-bindgen imports are never called by matmul: stub every import
  const module = await WebAssembly.compile(readFileSync(f));
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    (imports[imp.module] ??= {})[imp.name] = () => { throw new Error(`unexpected call to ${imp.module}.${imp.name}`); };
  }
  const instance = await WebAssembly.instantiate(module, imports);
  builds[f] = instance.exports;
}
console.log('| m×k×n | ' + Object.keys(builds).map((f) => `${f} median µs`).join(' | ') + ' |');
console.log('|---|' + Object.keys(builds).map(() => '---|').join(''));
for (const [m, k, n] of shapes) {
  const row = [];
  for (const e of Object.values(builds)) {
    e.prepare(m, k, n);
    for (let i = 0; i < 20; i++) e.run();
    const iters = Math.max(20, Math.floor(2e6 / (m * k * n)) + 20);
    const times = [];
    for (let i = 0; i < iters; i++) { const t = performance.now(); e.run(); times.push(performance.now() - t); }
    times.sort((a, b) => a - b);
    row.push((times[times.length >> 1] * 1000).toFixed(1));
  }
  console.log(`| ${m}×${k}×${n} | ${row.join(' | ')} |`);
}
