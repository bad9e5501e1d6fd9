// Which wasm build the engine loads (pkg/src/engine.ts): hearth-cpu for plain ONNX models and
// recommenders, hearth-cpu-full for models that import the ai.onnx.ml domain and for tracers, each
// only when first needed; and the opset_import check that decides it without decoding the graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, defaultWasmUrl, needsFullCpuBuild } from '../dist/engine.js';
import { shopBundle } from './helpers/bundle.mjs';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(pkg, '..');
const plain = new Uint8Array(readFileSync(path.join(root, 'models/propensity.onnx')));
const tracerBytes = new Uint8Array(readFileSync(path.join(root, 'tests/fixtures/education/tracer_sim.hearth')));

/** A skl2onnx logistic regression (ai.onnx.ml: LinearClassifier, ZipMap) and its input. */
function mlModel() {
  const cache = process.env.HEARTH_CACHE || path.join(os.homedir(), '.cache/hearth');
  const dir = path.join(cache, 'tabular-models-v2');
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    execFileSync('python3', [path.join(root, 'tools/tabular_models.py'), dir], { stdio: 'inherit' });
  }
  return new Uint8Array(readFileSync(path.join(dir, 'logreg_binary/model.onnx')));
}

/** An inline engine that records which builds it asks for. */
async function engine() {
  const asked = [];
  const e = new Engine((build) => {
    asked.push(build);
    return readFile(fileURLToPath(defaultWasmUrl(build)));
  }, true);
  await e.call('init', { backend: 'cpu' });
  return { e, asked };
}

test('needsFullCpuBuild reads the opset imports and metadata: skl2onnx model yes, embedded spec yes, plain model no, bad bytes no', () => {
  const ml = mlModel();
  assert.equal(needsFullCpuBuild(ml), true);
  assert.equal(needsFullCpuBuild(plain), false);
  // a feature spec in metadata_props (field 14, key 'hearth.features'), appended as a top-level field
  const entry = (k, v) => { const e = new TextEncoder(); const kb = e.encode(k), vb = e.encode(v); return [0x0a, kb.length, ...kb, 0x12, vb.length, ...vb]; };
  const withMeta = (k) => { const e = entry(k, '{}'); return new Uint8Array([...plain, 0x72, e.length, ...e]); };
  assert.equal(needsFullCpuBuild(withMeta('hearth.features')), true, 'an embedded feature spec');
  assert.equal(needsFullCpuBuild(withMeta('author')), false, 'other metadata');
  assert.equal(needsFullCpuBuild(ml.subarray(0, 40)), false, 'truncated');
  assert.equal(needsFullCpuBuild(new Uint8Array([0xff, 0xff, 0xff])), false, 'not a ModelProto');
  assert.equal(needsFullCpuBuild(new Uint8Array(0)), false, 'empty');
});

test('a plain model and a recommender load hearth-cpu only; an ai.onnx.ml model then loads hearth-cpu-full, and both keep running', async () => {
  const { e, asked } = await engine();
  assert.deepEqual(asked, [], 'init loads nothing on the CPU');
  const m = (await e.call('loadModel', { bytes: plain.slice().buffer })).value;
  const r = (await e.call('loadRecommender', { bytes: shopBundle().slice().buffer })).value;
  assert.deepEqual(asked, ['cpu']);
  const x = { features: { data: new Float32Array(34).fill(0.5), dims: [2, 17] } };
  const before = (await e.call('run', { handle: m.handle, feeds: x })).value.outputs;
  const ml = (await e.call('loadModel', { bytes: mlModel().slice().buffer })).value;
  assert.deepEqual(asked, ['cpu', 'cpu-full']);
  const input = ml.inputs[0];
  const width = input.dims[1];
  const out = (await e.call('run', { handle: ml.handle, feeds: { [input.name]: { data: new Float32Array(width).fill(1), dims: [1, width] } } })).value.outputs;
  assert.ok(Object.keys(out).length >= 1, 'the ai.onnx.ml model runs');
  // the objects made before stay in hearth-cpu and answer as before
  const after = (await e.call('run', { handle: m.handle, feeds: x })).value.outputs;
  assert.deepEqual([...after.purchase_probability.data], [...before.purchase_probability.data]);
  const recs = (await e.call('recommend', { handle: r.handle, opts: { k: 2 } })).value.list;
  assert.equal(recs.length, 2);
  // once the full build is loaded, new objects go to it: no third build
  await e.call('loadModel', { bytes: plain.slice().buffer });
  assert.deepEqual(asked, ['cpu', 'cpu-full']);
});

test('a page that only traces learners downloads hearth-cpu-full alone', async () => {
  const { e, asked } = await engine();
  const t = (await e.call('loadTracer', { bytes: tracerBytes.slice().buffer })).value;
  assert.ok(t.questions.length > 0);
  const l = (await e.call('openLearner', { handle: t.handle, answers: [] })).value;
  await e.call('observe', { learner: l.learner, answer: { question: t.questions[0].id, correct: true, ts: 1 } });
  assert.deepEqual(asked, ['cpu-full']);
});

test('the small build refuses an ai.onnx.ml model with a typed error that names the operator', async () => {
  const glue = await import('../wasm/hearth-cpu.js');
  await glue.default({ module_or_path: await readFile(fileURLToPath(defaultWasmUrl('cpu'))) });
  assert.throws(() => glue.Session.fromBytes(mlModel()), (err) => err.code === 'UNSUPPORTED' && /no ai\.onnx\.ml operators/.test(err.message) && /unsupported operator '\w+' \(domain 'ai\.onnx\.ml'/.test(err.message));
  assert.equal(Reflect.get(glue, 'Tracer'), undefined, 'hearth-cpu has no tracer');
});

/** Protobuf encoding, enough for a one-node ONNX model: fields of varints, bytes and messages. */
function pb(fields) {
  const out = [];
  const varint = (n) => { do { let b = n & 0x7f; n = Math.floor(n / 128); if (n) b |= 0x80; out.push(b); } while (n); };
  for (const [no, v] of fields) {
    if (typeof v === 'number') { varint(no * 8); varint(v); continue; }
    const bytes = typeof v === 'string' ? new TextEncoder().encode(v) : v;
    varint(no * 8 + 2); varint(bytes.length); out.push(...bytes);
  }
  return new Uint8Array(out);
}

/** `y = op(x)` for x of shape `dims` and ONNX element type `elem` (1 float32, 7 int64), at opset 22. */
function oneNodeModel(op, dims, elem) {
  const tensorType = (e, d) => pb([[1, pb([[1, e], [2, pb(d.map((n) => [1, pb([[1, n]])]))]])]]);
  const graph = pb([
    [1, pb([[1, 'x'], [2, 'y'], [4, op]])],
    [2, op.toLowerCase()],
    [11, pb([[1, 'x'], [2, tensorType(elem, dims)]])],
    [12, pb([[1, 'y'], [2, tensorType(1, [])]])],
  ]);
  return pb([[1, 10], [8, pb([[1, ''], [2, 22]])], [7, graph]]);
}

/** `y = Det(x)` for x of shape [2, 2] (float32). */
const detModel = () => oneNodeModel('Det', [2, 2], 1);

test('an operator the small build leaves out (Det) is refused there by name, and the engine runs the model in hearth-cpu-full', async () => {
  const glue = await import('../wasm/hearth-cpu.js');
  await glue.default({ module_or_path: await readFile(fileURLToPath(defaultWasmUrl('cpu'))) });
  assert.throws(() => glue.Session.fromBytes(detModel()), (err) => err.code === 'UNSUPPORTED' && /leaves out Det/.test(err.message) && /hearth-cpu-full/.test(err.message));
  // the signal family too (left out since the Winograd convolution took its room)
  for (const op of ['DFT', 'STFT', 'HannWindow', 'HammingWindow', 'BlackmanWindow']) {
    const model = op.endsWith('Window') ? oneNodeModel(op, [], 7) : oneNodeModel(op, [1, 8, 1], 1);
    assert.throws(() => glue.Session.fromBytes(model), (err) => err.code === 'UNSUPPORTED' && new RegExp(`leaves out ${op}`).test(err.message) && /hearth-cpu-full/.test(err.message), op);
  }
  const { e, asked } = await engine();
  const m = (await e.call('loadModel', { bytes: detModel().buffer })).value;
  assert.deepEqual(asked, ['cpu', 'cpu-full'], 'tried in hearth-cpu, loaded in hearth-cpu-full');
  const out = (await e.call('run', { handle: m.handle, feeds: { x: { data: new Float32Array([3, 1, 4, 2]), dims: [2, 2] } } })).value.outputs;
  assert.deepEqual([...out.y.data], [2], 'det [[3, 1], [4, 2]] = 2');
});
