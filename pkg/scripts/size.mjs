// Prints what hearth-ml weighs: the package's JS (tsc output + wasm-bindgen glue, unminified, as
// shipped) and the wasm, then what the Vite example ships after its production build (minified
// JS for the page and the worker, and the wasm), each raw / gzip -9 / brotli -q 11.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sizes(files) {
  const buf = Buffer.concat(files.map((f) => readFileSync(f)));
  // each file compressed on its own, as a server sends them
  let gz = 0;
  let br = 0;
  for (const f of files) {
    const b = readFileSync(f);
    gz += gzipSync(b, { level: 9 }).length;
    br += brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  }
  return { raw: buf.length, gz, br };
}
const fmt = (s) => `${s.raw} B raw, ${s.gz} B gzip, ${s.br} B brotli`;
const list = (dir, re) => (existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f)).map((f) => path.join(dir, f)) : []);

const browserJs = ['index', 'core', 'errors', 'fetch', 'transport', 'platform-browser', 'profile-store', 'worker', 'engine']
  .map((n) => path.join(pkg, 'dist', `${n}.js`));
console.log(`size: package JS (browser entry + worker, unminified): ${fmt(sizes(browserJs))}`);
const what = {
  'hearth-cpu': 'CPU only: the ONNX executor and the recommender',
  'hearth-cpu-full': 'CPU only, plus ai.onnx.ml and knowledge tracing: loaded for those',
  hearth: 'CPU + WebGPU, loaded when WebGPU gives an adapter',
};
for (const b of Object.keys(what)) {
  console.log(`size: ${b} (${what[b]}): glue ${fmt(sizes([path.join(pkg, `wasm/${b}.js`)]))}; wasm ${fmt(sizes([path.join(pkg, `wasm/${b}_bg.wasm`)]))}`);
}
const assets = path.join(pkg, 'examples/vite-app/dist/assets');
const page = list(assets, /^index-.*\.js$/);
const worker = list(assets, /^worker-.*\.js$/);
if (page.length && worker.length) {
  console.log(`size: Vite build of the example: page JS ${fmt(sizes(page))}; worker JS ${fmt(sizes(worker))}`);
  for (const w of list(assets, /\.wasm$/)) console.log(`size:   ${path.basename(w)} ${fmt(sizes([w]))}`);
}
