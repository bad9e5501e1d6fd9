// Knowledge-tracing speed in the full CPU wasm build, hearth-cpu-full (Node, one thread): a bank of 10,000 questions
// (20 topics × 2 subtopics, 3 levels, 2PL parameters) is written in JS (tests/wasm/bundle.mjs)
// and loaded; then, per step, one `observe` (a random question, a random answer) followed by one
// `next({ k: 5 })` — what an app does after every answer — timed over fresh steps. Also: each
// call alone, `next` in assess mode, `mastery`, replaying a 1,000-answer history, and loading.
//
// With a sequence model (DKT: one-hot input of 110 skills, LSTM hidden 64, Linear + sigmoid;
// tests/wasm/dkt.mjs, models written by tools/dkt_models.py): one `observe` with the recurrent
// state carried (one step of length 1) against one `observe` that re-runs a 200-answer history
// (the same model, state 'rerun'), and `observe` on the same bank without the model.
//
//   node benches/tracer.mjs [--smoke] [--glue DIR]    (DIR holding hearth-cpu-full.js; default pkg/wasm)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { safetensors } from '../tests/wasm/bundle.mjs';
import { dktBundle, dktReference } from '../tests/wasm/dkt.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const gi = args.indexOf('--glue');
const dir = gi >= 0 ? path.resolve(args[gi + 1]) : path.join(here, '../pkg/wasm');
const glue = await import(pathToFileURL(path.join(dir, 'hearth-cpu-full.js')).href);
glue.initSync({ module: readFileSync(path.join(dir, 'hearth-cpu-full_bg.wasm')) });

let seed = 11;
const rnd = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 2 ** 32; };

function bank(n, topics) {
  const questions = [];
  const b = new Float64Array(n), a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = i % topics;
    questions.push({ id: `q${i}`, topic: `T${t}`, subtopic: `T${t}.S${(i >> 5) % 2}`, level: i % 3 });
    b[i] = (rnd() - 0.5) * 6;
    a[i] = 0.5 + rnd() * 1.5;
  }
  const manifest = {
    format: 'hearth.learning', version: 1,
    topics: Array.from({ length: topics }, (_, t) => `T${t}`),
    subtopics: Array.from({ length: topics * 2 }, (_, s) => `T${s >> 1}.S${s & 1}`),
    levels: ['Basic', 'Intermediate', 'Advanced'], questions, model: 'irt2pl',
  };
  return safetensors({
    irt_difficulty: { dtype: 'F64', shape: [n], bytes: b, align: 8 },
    irt_discrimination: { dtype: 'F64', shape: [n], bytes: a, align: 8 },
    irt_fitted: { dtype: 'U8', shape: [n], bytes: new Uint8Array(n).fill(1), align: 1 },
  }, manifest);
}

const pct = (xs, p) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
function time(label, iters, fn) {
  const t = [];
  for (let i = 0; i < iters + 20; i++) {
    const t0 = performance.now();
    fn(i);
    if (i >= 20) t.push(performance.now() - t0);
  }
  const r = { label, median: pct(t, 0.5), p10: pct(t, 0.1), p90: pct(t, 0.9) };
  console.log(`${label.padEnd(46)} ${r.median.toFixed(4)} ms  [${r.p10.toFixed(4)}–${r.p90.toFixed(4)}]`);
  return r;
}

const N = 10_000;
const bytes = bank(N, 20);
const iters = smoke ? 5 : 2000;
const t0 = performance.now();
const tracer = glue.Tracer.fromBytes(bytes);
console.log(`bank: ${N} questions, ${bytes.length} bytes; Tracer.fromBytes ${(performance.now() - t0).toFixed(1)} ms; questions() ${(() => { const s = performance.now(); tracer.questions(); return (performance.now() - s).toFixed(1); })()} ms`);
const learner = tracer.newLearner();
let ts = 1_760_000_000_000;
const step = () => {
  ts += 30_000;
  learner.observe(`q${Math.floor(rnd() * N)}`, rnd() < 0.6, ts);
};
const both = time('observe + next({ k: 5 })', iters, () => { step(); learner.next({ k: 5 }); });
time('observe alone', iters, step);
time('next({ k: 5 })', iters, () => learner.next({ k: 5 }));
time("next({ k: 5, mode: 'assess' })", iters, () => learner.next({ k: 5, mode: 'assess' }));
time("next({ k: 5, topic: 'T3' })", iters, () => learner.next({ k: 5, topic: 'T3' }));
time('mastery()', iters, () => learner.mastery());
time('predict(id)', iters, () => learner.predict(`q${Math.floor(rnd() * N)}`));
const history = Array.from({ length: 1000 }, (_, i) => ({ question: `q${Math.floor(rnd() * N)}`, correct: rnd() < 0.6, ts: 1_760_000_000_000 + i * 60_000 }));
time('replay 1,000 answers (observeMany)', smoke ? 2 : 50, () => { const l = tracer.newLearner(); l.observeMany(history); l.free(); });
if (!smoke && both.median > 1) console.log(`observe + next({ k: 5 }) median ${both.median.toFixed(3)} ms is above the 1 ms target`);

// DKT: the streamed step against re-running the history
{
  const ref = dktReference();
  const seq = ref.sequences.flat();
  const answers = (n, from = 0) => Array.from({ length: n }, (_, i) => {
    const [sk, c] = seq[(from + i) % seq.length];
    return { question: `q${sk}a`, correct: c === 1, ts: 1_700_000_000_000 + (from + i) * 86_400_000 };
  });
  const history = answers(199);
  const run = (bytes, label, n) => {
    const t = glue.Tracer.fromBytes(bytes);
    const l = t.newLearner();
    l.observeMany(history);
    const more = answers(n + 20, 199);
    return time(label, n, (i) => { const a = more[i]; l.observe(a.question, a.correct, a.ts); });
  };
  const dkt = (state) => dktBundle('onehot', { state });
  const n = smoke ? 3 : 300;
  const carry = run(dkt('carry'), 'DKT observe, state carried (1 step)', n);
  const rerun = run(dkt('rerun'), 'DKT observe, re-running 200+ answers', smoke ? 3 : 40);
  const plain = run(safetensorsWithoutKt(dkt('carry')), 'observe, same bank without the model', n);
  console.log(`DKT streamed step: ${carry.median.toFixed(4)} ms = ${(carry.median / rerun.median).toFixed(3)}× the re-run; ` +
    `the model's share ${(carry.median - plain.median).toFixed(4)} ms (hidden ${ref.hidden}, ${ref.skills} skills)`);
}

/** The bundle without its kt manifest and model (the same bank and parameters). */
function safetensorsWithoutKt(bytes) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const manifest = JSON.parse(header.__metadata__.hearth);
  delete manifest.kt;
  return safetensors({}, manifest);
}
