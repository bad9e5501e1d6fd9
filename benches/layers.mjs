// Per-node timing of Hearth against onnxruntime-web (wasm, 1 thread, SIMD) in one Node process:
// for every one-node model in DIR (written by `python3 tools/split_nodes.py MODEL.onnx DIR`),
// RUNS runs (default 30) alternating the engines on fresh float inputs, and the medians of the
// last 80 % in ms with their ratio. Each time includes both engines' per-call cost (inputs
// copied in, outputs out), so small nodes read closer to 1 than they weigh inside the model. A
// development tool for finding where a model's time goes; bench.mjs gives the real figures.
//
//   node benches/layers.mjs DIR [HEARTH_WASM_DIR, default pkg/wasm]
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-web';
const [dir, hdir = new URL('../pkg/wasm', import.meta.url).pathname] = process.argv.slice(2);
ort.env.wasm.numThreads = 1; ort.env.wasm.simd = true;
const g = await import(pathToFileURL(`${hdir}/hearth-cpu.js`).href);
g.initSync({ module: readFileSync(`${hdir}/hearth-cpu_bg.wasm`) });
const runs = Number(process.env.RUNS) || 30;
let tot = [0, 0];
for (const f of readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort()) {
  const bytes = new Uint8Array(readFileSync(path.join(dir, f)));
  const h = g.Session.fromBytes(bytes);
  const o = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  // float inputs random in [-1, 1), int64 ones (indices, shapes) 0; a symbolic dim is 1
  const mk = () => Object.fromEntries(h.inputs.map((i) => {
    const dims = i.dims.map((d) => (typeof d === 'number' ? d : 1));
    const n = dims.reduce((a, b) => a * b, 1);
    const data = i.type === 'int64' ? new BigInt64Array(n) : Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
    return [i.name, { data, dims }];
  }));
  const th = [], to = [];
  for (let r = 0; r < runs; r++) {
    const fe = mk();
    let t0 = performance.now(); h.run(fe); th.push(performance.now() - t0);
    const ofe = Object.fromEntries(Object.entries(fe).map(([k, v]) => [k, new ort.Tensor(v.data instanceof BigInt64Array ? 'int64' : 'float32', v.data, v.dims)]));
    t0 = performance.now(); await o.run(ofe); to.push(performance.now() - t0);
  }
  const med = (a) => { a = a.slice(runs / 5).sort((x, y) => x - y); return a[a.length >> 1]; };
  const [a, b] = [med(th), med(to)];
  tot[0] += a; tot[1] += b;
  console.log(f.padEnd(24), h.inputs.map((i) => i.dims.join('x')).join(',').padEnd(18), a.toFixed(3).padStart(8), b.toFixed(3).padStart(8), (a / b).toFixed(2));
}
console.log('total', tot[0].toFixed(2), tot[1].toFixed(2), (tot[0] / tot[1]).toFixed(2));
