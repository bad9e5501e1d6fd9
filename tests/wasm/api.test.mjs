// The wasm build's JS API in Node: metadata, runs against the model fixtures (onnxruntime
// references), external data, typed errors with stable codes, and that the shipped builds
// (pkg/wasm) export none of the test build's entry points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { hearth, root, readPbs, listDirs } from './common.mjs';
import { nodeDataDir } from '../conformance.mjs';

const fixtures = path.join(root, 'tests/models');
const bytes = (p) => new Uint8Array(readFileSync(p));

function tolerance(dir) {
  const f = path.join(dir, 'tolerance.txt');
  if (!existsSync(f)) return [undefined, undefined];
  const text = readFileSync(f, 'utf8');
  const num = (k) => { const m = text.match(new RegExp(`${k}=([0-9.eE+-]+)`)); return m ? Number(m[1]) : undefined; };
  return [num('atol'), num('rtol')];
}

test('model fixtures match onnxruntime in wasm', () => {
  const names = listDirs(fixtures).filter((n) => existsSync(path.join(fixtures, n, 'model.onnx')));
  assert.ok(names.length >= 5, `fixtures found: ${names}`);
  for (const name of names) {
    const dir = path.join(fixtures, name);
    const external = readdirSync(dir).filter((f) => f !== 'model.onnx' && !/\.(txt|md)$/.test(f) && !f.startsWith('test_data'));
    for (const set of readdirSync(dir).filter((f) => f.startsWith('test_data_set_')).sort()) {
    const data = path.join(dir, set);
    if (external.length === 0) {
      const [atol, rtol] = tolerance(dir);
      const r = hearth.conformanceCase(bytes(path.join(dir, 'model.onnx')), readPbs(data, 'input'), readPbs(data, 'output'), atol, rtol);
      assert.equal(r.outcome, 'pass', `${name}: ${r.outcome} ${r.detail}`);
    } else {
      // external data: through the public API
      const s = hearth.Session.fromBytes(bytes(path.join(dir, 'model.onnx')), external.map((f) => [f, bytes(path.join(dir, f))]));
      const feeds = {};
      for (const pb of readPbs(data, 'input')) { const t = hearth.decodeTensorProto(pb); feeds[t.name] = t; }
      const out = s.run(feeds);
      for (const pb of readPbs(data, 'output')) {
        const want = hearth.decodeTensorProto(pb);
        const got = out[want.name];
        assert.deepEqual(got.dims, want.dims, `${name}: dims`);
        for (let i = 0; i < want.data.length; i++) {
          assert.ok(Math.abs(got.data[i] - want.data[i]) <= 1e-5 + 1e-3 * Math.abs(want.data[i]), `${name}[${i}]: ${got.data[i]} vs ${want.data[i]}`);
        }
      }
    }
    }
  }
});

test('metadata: names, dtypes, symbolic dims', () => {
  const s = hearth.Session.fromBytes(bytes(path.join(fixtures, 'mlp/model.onnx')));
  assert.equal(s.inputs.length, 1);
  assert.equal(s.inputs[0].type, 'float32');
  assert.equal(typeof s.inputs[0].dims[0], 'string', 'batch dim is symbolic');
  assert.equal(s.inputs[0].dims[1], 17);
  assert.equal(s.backend, 'cpu');
});

test('errors carry stable codes and say what was expected', () => {
  assert.throws(() => hearth.Session.fromBytes(new Uint8Array([1, 2, 3, 4])), (e) => e.code === 'MODEL_INVALID');
  const s = hearth.Session.fromBytes(bytes(path.join(fixtures, 'mlp/model.onnx')));
  const name = s.inputs[0].name;
  assert.throws(() => s.run({ nope: { data: new Float32Array(17), dims: [1, 17] } }),
    (e) => e.code === 'INPUT' && e.message.includes(name));
  assert.throws(() => s.run({ [name]: { data: new Float32Array(16), dims: [1, 16] } }),
    (e) => e.code === 'INPUT' && /expected 17/.test(e.message));
  assert.throws(() => s.run({ [name]: { data: new Int32Array(17), dims: [1, 17] } }),
    (e) => e.code === 'INPUT' && /float32/.test(e.message));
  assert.throws(() => s.run({ [name]: { data: new Float32Array(17), dims: [2, 17] } }),
    (e) => e.code === 'ARGUMENT');
  assert.throws(() => s.run({ [name]: { data: [1, 2, 3], dims: [1, 3] } }), (e) => e.code === 'ARGUMENT');
  assert.throws(() => s.run(42), (e) => e.code === 'ARGUMENT');
});

test('feeds are matched by name whatever their order; a missing, extra or misspelt feed is named', () => {
  // test_sub: z = x - y, both [3, 4, 5]
  const dir = path.join(nodeDataDir(), 'test_sub');
  const s = hearth.Session.fromBytes(bytes(path.join(dir, 'model.onnx')));
  const [x, y] = readPbs(path.join(dir, 'test_data_set_0'), 'input').map((pb) => hearth.decodeTensorProto(pb));
  const want = x.data.map((v, i) => Math.fround(v - y.data[i]));
  for (const feeds of [{ x, y }, { y, x }]) assert.deepEqual(Array.from(s.run(feeds).z.data), Array.from(want));
  const named = (re) => (e) => e.code === 'INPUT' && re.test(e.message);
  assert.throws(() => s.run({ x }), named(/'y'.*missing/));
  assert.throws(() => s.run({ x, w: y }), named(/'w'.*no such input/));
  assert.throws(() => s.run({ x, y, w: y }), named(/'w'.*no such input/));
  assert.throws(() => s.run({ x, y: undefined }), (e) => e.code === 'ARGUMENT' && /'y'/.test(e.message));
  // a name from the prototype is no feed: only the object's own keys are read
  assert.throws(() => s.run(Object.assign(Object.create({ y }), { x, w: y })), named(/'w'/));
});

test('propensity model predicts probabilities', () => {
  const s = hearth.Session.fromBytes(bytes(path.join(root, 'models/propensity.onnx')));
  const x = new Float32Array(2 * 17);
  const out = s.run({ [s.inputs[0].name]: { data: x, dims: [2, 17] } });
  const p = out[s.outputs[0].name];
  assert.deepEqual(p.dims, [2, 1]);
  for (const v of p.data) assert.ok(v >= 0 && v <= 1, `probability ${v}`);
});

// The size budget of the build every CPU page loads first (issues 15 and 16: under 400 KB
// brotli): what grows it past that has to go to hearth-cpu-full or pay for itself elsewhere.
test('hearth-cpu stays under 400,000 B brotli (quality 11)', () => {
  const wasm = readFileSync(path.join(root, 'pkg/wasm/hearth-cpu_bg.wasm'));
  const br = brotliCompressSync(wasm, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: wasm.length } }).length;
  assert.ok(br < 400_000, `hearth-cpu is ${br} B brotli (${wasm.length} B raw): over the 400,000 B budget`);
});

test("MatMulInteger's SIMD128 int8 GEMM equals its scalar twin (inside wasm, every tile edge, wrapping sums)", () => {
  assert.equal(hearth.qgemmCheckForTest(), 0);
});

test("the f32 GEMM's SIMD128 micro-kernel equals its scalar twin bit for bit (inside wasm: tile and block edges, transposes, scale, added C, B packed ahead, both operands packed ahead)", () => {
  assert.equal(hearth.sgemmCheckForTest(), 0);
});

test("the few-rows product's SIMD128 kernel over a row-major B equals its scalar twin bit for bit (inside wasm: block, group and vector edges, 1-4 rows, scale, added C)", () => {
  assert.equal(hearth.rowsCheckForTest(), 0);
});

test("TopK's SIMD128 scan equals its scalar twin (inside wasm: ties, both zeros, infinities, NaNs, every start, both directions)", () => {
  assert.equal(hearth.topkCheckForTest(), 0);
});

test("the depthwise convolution's and the 2-D max pool's SIMD128 kernels equal their scalar twins bit for bit (inside wasm: strides 1 and 2, dilations, pads, step edges; the max pool also against the table walk)", () => {
  assert.equal(hearth.depthwiseCheckForTest(), 0);
});

test("the common LSTM's fused SIMD128 gates equal the general gate path bit for bit (inside wasm: widths around the 4-lane steps, σ's and tanh's ranges, infinities)", () => {
  assert.equal(hearth.lstmGatesCheckForTest(), 0);
});

// Names of the test build's own exports (feature `test-api`); none may reach a shipped build.
const TEST_ONLY = /conformance|decodetensorproto|fortest/i;

test('the shipped wasm builds export only the public API; the test build has the test entry points', async () => {
  const exportsOf = (file) => WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(path.join(root, file)))).map((e) => e.name.toLowerCase());
  for (const file of ['pkg/wasm/hearth-cpu_bg.wasm', 'pkg/wasm/hearth-cpu-full_bg.wasm', 'pkg/wasm/hearth_bg.wasm']) {
    const names = exportsOf(file);
    assert.ok(names.some((n) => /session_run/.test(n)), `${file}: the public API is there (${names.length} exports)`);
    assert.deepEqual(names.filter((n) => TEST_ONLY.test(n)), [], `${file} exports test entry points`);
    const glue = readFileSync(path.join(root, file.replace('_bg.wasm', '.d.ts')), 'utf8');
    assert.doesNotMatch(glue, TEST_ONLY, `${file}: the glue's types name a test entry point`);
  }
  const cpuTest = exportsOf('tests/wasm-build/hearth-cpu_bg.wasm').filter((n) => TEST_ONLY.test(n));
  assert.ok(cpuTest.includes('conformancecase') && cpuTest.includes('decodetensorproto'), `test build: ${cpuTest}`);
  const gpuTest = exportsOf('tests/wasm-build/hearth_bg.wasm').filter((n) => TEST_ONLY.test(n));
  for (const n of ['conformancecaseasync', 'session_destroygpudevicefortest', 'session_compileshaderfortest', 'recommender_destroygpudevicefortest']) {
    assert.ok(gpuTest.includes(n), `GPU test build lacks ${n}: ${gpuTest}`);
  }
});
