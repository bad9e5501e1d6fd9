// The main job: load the purchase-propensity model into Hearth's CPU wasm build (Node) and score
// real sessions from the UCI Online Shoppers dataset, printing each prediction next to what the
// visitor actually did.
//
// Usage: node examples/predict.mjs [path/to/online_shoppers_intention.csv] [rows]
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hearth from '../pkg/wasm/hearth-cpu.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const csvPath = process.argv[2] || path.join(process.env.HEARTH_DATA || path.join(root, '../shared/data'), 'online-shoppers/online_shoppers_intention.csv');
const rows = Number(process.argv[3] || 12);
const meta = JSON.parse(readFileSync(path.join(root, 'models/propensity.json'), 'utf8'));

hearth.initSync({ module: readFileSync(path.join(root, 'pkg/wasm/hearth-cpu_bg.wasm')) });
const t0 = performance.now();
const session = hearth.Session.fromBytes(new Uint8Array(readFileSync(path.join(root, 'models', meta.model))));
const loadMs = performance.now() - t0;
const input = session.inputs[0];
console.log(`model ${meta.model}: input ${input.name} ${input.type} [${input.dims.join(', ')}], backend ${session.backend}, loaded in ${loadMs.toFixed(1)} ms`);

if (!existsSync(csvPath)) {
  console.error(`dataset not found at ${csvPath}: pass its path as the first argument`);
  process.exit(1);
}
const lines = readFileSync(csvPath, 'utf8').trim().split('\n');
const header = lines[0].split(',');
const cols = meta.features.map((f) => header.indexOf(f));
if (cols.some((c) => c < 0)) throw new Error(`dataset lacks features: ${meta.features.filter((_, i) => cols[i] < 0)}`);
const label = header.indexOf('Revenue');
// a spread of real sessions: evenly spaced rows, half of them from sessions that ended in a purchase
const complete = lines.slice(1).map((l) => l.split(',')).filter((f) => f.length === header.length && f.every((v) => v !== ''));
const spread = (list, n) => Array.from({ length: n }, (_, i) => list[Math.floor((i * list.length) / n)]);
const bought = complete.filter((f) => f[label] === '1');
const left = complete.filter((f) => f[label] !== '1');
const picked = [...spread(left, rows - (rows >> 1)), ...spread(bought, rows >> 1)];
const x = new Float32Array(picked.length * cols.length);
picked.forEach((f, r) => cols.forEach((c, j) => { x[r * cols.length + j] = Number(f[c]); }));

const feeds = { [input.name]: { data: x, dims: [picked.length, cols.length] } };
const t1 = performance.now();
const out = session.run(feeds);
const firstMs = performance.now() - t1;
const t2 = performance.now();
session.run(feeds);
const warmMs = performance.now() - t2;
const p = out[session.outputs[0].name].data;
console.log(`scored ${picked.length} real sessions: first run ${firstMs.toFixed(2)} ms, next run ${warmMs.toFixed(3)} ms`);
console.log('  page values  product pages  bounce   P(purchase)  purchased?');
picked.forEach((f, r) => {
  const pv = Number(f[header.indexOf('PageValues')]).toFixed(1).padStart(11);
  const pr = f[header.indexOf('ProductRelated')].padStart(13);
  const br = Number(f[header.indexOf('BounceRates')]).toFixed(3).padStart(7);
  console.log(`  ${pv}  ${pr}  ${br}   ${p[r].toFixed(3).padStart(11)}  ${f[label] === '1' ? 'yes' : 'no'}`);
});
console.log(`model test AUC ${meta.metrics.test_auc} (see models/propensity.json). Data: UCI Online Shoppers Purchasing Intention, CC BY 4.0, Sakar et al. (2019).`);
