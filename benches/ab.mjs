// A/B timing of Hearth CPU wasm builds in one process (e.g. main before and after a change):
// node benches/ab.mjs MODEL.onnx DIR_A DIR_B … (each DIR holds hearth-cpu.js and its .wasm, or the
// build AB_BUILD names: AB_BUILD=hearth-cpu-full for ai.onnx.ml models). Runs the model on fresh
// random inputs, alternating builds every run, and prints each build's median and p10 in ms
// (AB_RUNS=N runs per build, default 4000; AB_BATCH=N for symbolic dims, default 1; AB_FILL=name=v,…
// fills the named inputs with the value v instead and AB_DIMS=name=AxB,… gives their dims, e.g.
// AB_FILL=sr=16000,state=0 AB_DIMS=input=1x576 for silero VAD, whose sample rate picks its branch). A development tool: the side-by-side figures against
// other engines are bench.mjs.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [model, ...dirs] = process.argv.slice(2);
const engines = [];
const build = process.env.AB_BUILD || 'hearth-cpu';
for (const d of dirs) {
  const g = await import(pathToFileURL(`${d}/${build}.js`).href + `?${engines.length}`);
  g.initSync({ module: readFileSync(`${d}/${build}_bg.wasm`) });
  engines.push(g.Session.fromBytes(new Uint8Array(readFileSync(model))));
}
const s0 = engines[0];
const fill = new Map((process.env.AB_FILL || '').split(',').filter(Boolean).map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
const given = new Map((process.env.AB_DIMS || '').split(',').filter(Boolean).map((kv) => kv.split('=')).map(([k, v]) => [k, v.split('x').map(Number)]));
const feeds = () => Object.fromEntries(s0.inputs.map((i) => {
  const dims = given.get(i.name) ?? i.dims.map((d) => (typeof d === 'number' ? d : Number(process.env.AB_BATCH) || 1));
  const n = dims.reduce((a, b) => a * b, 1);
  const v = fill.get(i.name);
  const int = () => BigInt(v ?? Math.floor(Math.random() * 50));
  const data = i.type === 'int64' ? BigInt64Array.from({ length: n }, int) : Float32Array.from({ length: n }, () => v ?? Math.random());
  return [i.name, { data, dims }];
}));
const t = engines.map(() => []);
const runs = Number(process.env.AB_RUNS) || 4000;
for (let r = 0; r < runs; r++) {
  for (const e of engines.keys()) {
    const f = feeds();
    const t0 = performance.now(); engines[e].run(f); const dt = performance.now() - t0;
    if (r >= runs / 20) t[e].push(dt);
  }
}
for (let e = 0; e < engines.length; e++) { t[e].sort((a, b) => a - b); console.log(dirs[e], 'median', t[e][t[e].length >> 1].toFixed(4), 'p10', t[e][t[e].length / 10 | 0].toFixed(4)); }
