// hearth-ml on WebGPU: headless Chromium with --enable-unsafe-webgpu, whose adapter is SwiftShader
// (a CPU emulation of a GPU: these tests check parity and behaviour, never speed). The CPU engine
// is the reference every GPU result is compared with.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch, freshPage as openFreshPage, hookedWorker } from './helpers/server.mjs';
import { randomBundle } from './helpers/bundle.mjs';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(pkg, '..');
const MODEL = '/models/propensity.onnx';
// 20,000 items × 32: ten GPU top-k workgroups and a second round
const BIG = '/big.hearth';
// an int8 table: the GPU scores it dequantized in f32, the CPU's int8 kernel with a quantized query
const INT8 = '/int8.hearth';

let server, browser;

before(async () => {
  server = await serve({ '/pkg': pkg, '/models': path.join(root, 'models') }, { [BIG]: randomBundle(20000, 32, 7), [INT8]: randomBundle(5000, 32, 9, { dtype: 'int8' }), '/pkg/dist/worker.js': hookedWorker(pkg) });
  browser = await launch({ webgpu: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const freshPage = () => openFreshPage(browser, server.base);

/**
 * Two ranked lists agree when they have the same length and, at every position, the same item
 * or two items whose scores are a near-tie (f32 sums in another order: GPU vs SIMD128 lanes).
 */
function assertSameRanking(gpu, cpu, what) {
  assert.equal(gpu.length, cpu.length, `${what}: lengths`);
  gpu.forEach((g, i) => {
    const c = cpu[i];
    const tol = 1e-5 + 1e-5 * Math.abs(c.score);
    assert.ok(Math.abs(g.score - c.score) <= tol, `${what} #${i}: gpu ${g.id} ${g.score} vs cpu ${c.id} ${c.score}`);
    if (g.id !== c.id) {
      const twin = cpu.find((x) => x.id === g.id);
      assert.ok(twin && Math.abs(twin.score - c.score) <= tol, `${what} #${i}: ${g.id} vs ${c.id} is not a near-tie`);
    } else {
      assert.deepEqual(g.because, c.because, `${what} #${i}: explanations`);
    }
  });
}

test('WebGPU engine, in the worker and inline: the CPU + WebGPU wasm loads, a model on the GPU matches the CPU engine; auto keeps the CPU on a software adapter and says why', async () => {
  const { context, page, errors } = await freshPage();
  const r = await page.evaluate(async (url) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const x = Float32Array.from({ length: 3 * 17 }, (_, i) => ((i * 37) % 11) / 3 - 1);
    const cpu = await Hearth.init({ backend: 'cpu', worker: false });
    const ref = await (await cpu.loadModel(url)).run({ features: { data: x.slice(), dims: [3, 17] } });
    const out = {};
    for (const worker of [true, false]) {
      const gpu = await Hearth.init({ backend: 'webgpu', worker });
      const m = await gpu.loadModel(url);
      const y = await m.run({ features: { data: x.slice(), dims: [3, 17] } });
      const auto = await Hearth.init({ worker });
      const am = await auto.loadModel(url);
      const ay = await am.run({ features: { data: x.slice(), dims: [3, 17] } });
      out[worker ? 'worker' : 'inline'] = {
        hearth: [gpu.backend, gpu.adapter, gpu.backendReason ?? null],
        model: m.backend,
        diff: Math.max(...[...y.purchase_probability.data].map((v, i) => Math.abs(v - ref.purchase_probability.data[i]))),
        auto: [auto.backend, am.backend, auto.backendReason],
        autoDiff: Math.max(...[...ay.purchase_probability.data].map((v, i) => Math.abs(v - ref.purchase_probability.data[i]))),
      };
      gpu.dispose();
      auto.dispose();
    }
    return out;
  }, MODEL);
  for (const where of ['worker', 'inline']) {
    const o = r[where];
    assert.equal(o.hearth[0], 'webgpu', `${where}: the engine started on WebGPU`);
    assert.match(o.hearth[1], /google|swiftshader/i, `${where}: SwiftShader's adapter: ${o.hearth[1]}`);
    assert.equal(o.hearth[2], null);
    assert.equal(o.model, 'webgpu', `${where}: backend 'webgpu' keeps the model on the GPU`);
    assert.ok(o.diff <= 1e-5, `${where}: GPU vs CPU max |Δ| ${o.diff}`);
    // SwiftShader is a software fallback adapter: 'auto' keeps the CPU build and says why
    assert.deepEqual(o.auto.slice(0, 2), ['cpu', 'cpu']);
    assert.match(o.auto[2], /^the only WebGPU adapter is a software fallback \(.*swiftshader.*\): WebAssembly SIMD128 on the CPU is faster$/i);
    assert.ok(o.autoDiff <= 1e-5);
  }
  const wasm = server.log.filter((p) => p.endsWith('.wasm'));
  assert.ok(wasm.includes('/pkg/wasm/hearth_bg.wasm'), 'the CPU + WebGPU build was loaded');
  assert.deepEqual(errors, []);
  await context.close();
});

test('backend cpu never downloads the WebGPU build', async () => {
  const { context, page } = await freshPage();
  const before = server.log.length;
  const b = await page.evaluate(async (url) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init({ backend: 'cpu' });
    await (await h.loadModel(url)).run({ features: { data: new Float32Array(17), dims: [1, 17] } });
    return h.backend;
  }, MODEL);
  assert.equal(b, 'cpu');
  const wasm = server.log.slice(before).filter((p) => p.endsWith('.wasm'));
  assert.deepEqual(wasm, ['/pkg/wasm/hearth-cpu_bg.wasm']);
  await context.close();
});

test('WebGPU recommender in the worker: the same top-k as the CPU engine for profiles, filters, diversity, k beyond the GPU kernel, cold start', async () => {
  const { context, page, errors } = await freshPage();
  const r = await page.evaluate(async (url) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const gpu = await Hearth.init({ backend: 'webgpu' });
    const cpu = await Hearth.init({ backend: 'cpu' });
    const g = await gpu.loadRecommender(url);
    const c = await cpu.loadRecommender(url);
    const events = ['i00003', 'i00100', 'i04567', 'i12345', 'i19999'].map((item, i) => ({ item, event: i % 2 ? 'view' : 'purchase', ts: 1000 * i }));
    const cases = {
      plain: { k: 10 },
      category: { k: 10, filter: { category: 'B' } },
      stockAndPrice: { k: 20, filter: { inStock: true, priceMax: 20 } },
      diversity: { k: 10, diversity: 0.4 },
      boost: { k: 10, boost: { i00042: 5 } },
      k100: { k: 100 },
    };
    const out = { backend: [g.backend, c.backend], cases: {} };
    for (const [name, o] of Object.entries(cases)) {
      const opts = { ...o, events, now: 10_000 };
      out.cases[name] = [await g.recommend(opts), await c.recommend(opts)];
    }
    out.cases.coldStart = [await g.recommend({ k: 10 }), await c.recommend({ k: 10 })];
    // a stored profile: recorded through the GPU engine, read back by the CPU engine (IndexedDB)
    const gp = await g.profile();
    for (const e of events) await gp.record(e);
    const cp = await c.profile();
    out.cases.profile = [await g.recommend({ profile: gp, k: 12, now: 10_000 }), await c.recommend({ profile: cp, k: 12, now: 10_000 })];
    out.backendAfter = g.backend;
    await gp.clear();
    return out;
  }, BIG);
  assert.deepEqual(r.backend, ['webgpu', 'cpu']);
  for (const [name, [gpu, cpu]] of Object.entries(r.cases)) {
    assert.ok(cpu.length > 0, `${name}: results`);
    assertSameRanking(gpu, cpu, name);
  }
  assert.ok(r.cases.boost[0].some((x) => x.id === 'i00042'), 'the boosted item is in');
  assert.equal(r.cases.k100[0].length, 100);
  assert.ok(r.cases.category[0].every((x) => x.item.category === 'B'));
  assert.ok(r.cases.profile[0].every((x) => x.because.length > 0), 'explanations on the GPU path');
  assert.equal(r.backendAfter, 'webgpu');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a lost GPU device moves the recommender and the model to the CPU; the calls still succeed with the same results', async () => {
  const { context, page } = await freshPage();
  const r = await page.evaluate(async ([url, model]) => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init({ backend: 'webgpu' });
    const rec = await h.loadRecommender(url);
    const m = await h.loadModel(model);
    const events = [{ item: 'i00007', event: 'purchase', ts: 0 }, { item: 'i10007', event: 'view', ts: 1 }];
    const x = { features: { data: Float32Array.from({ length: 17 }, (_, i) => i / 17), dims: [1, 17] } };
    const before = [rec.backend, m.backend, await rec.recommend({ events, k: 10, now: 5 }), [...(await m.run(x)).purchase_probability.data]];
    // the test prelude in the worker (helpers/server.mjs): GPUDevice.destroy() on its devices
    const destroyed = await h.call('__test_lose_gpu', {});
    const list = await rec.recommend({ events, k: 10, now: 5 });
    const y = [...(await m.run({ features: { data: Float32Array.from({ length: 17 }, (_, i) => i / 17), dims: [1, 17] } })).purchase_probability.data];
    return { before, destroyed, after: [rec.backend, m.backend, list, y], reasons: [rec.backendReason, m.backendReason] };
  }, [BIG, MODEL]);
  assert.ok(r.destroyed >= 1, 'the worker requested a GPU device');
  assert.deepEqual(r.before.slice(0, 2), ['webgpu', 'webgpu']);
  assert.deepEqual(r.after.slice(0, 2), ['cpu', 'cpu']);
  assert.match(r.reasons[0], /lost/);
  assert.match(r.reasons[1], /lost/);
  assertSameRanking(r.before[2], r.after[2], 'recommendations before and after the loss');
  assert.ok(Math.abs(r.before[3][0] - r.after[3][0]) <= 1e-5);
  await context.close();
});

test("the wasm recommender's 'auto' times one query on both backends, says why it chose, and answers like the CPU", async () => {
  const { context, page, errors } = await freshPage();
  const r = await page.evaluate(async ([url, int8]) => {
    const glue = await import('/pkg/wasm/hearth.js');
    await glue.default();
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const auto = await glue.Recommender.create(bytes, 'auto');
    const gpu = await glue.Recommender.create(bytes, 'webgpu');
    const cpu = await glue.Recommender.create(bytes, 'cpu');
    const opts = { k: 10, events: [{ item: 'i00011', event: 'purchase', ts: 0 }], now: 1 };
    const x = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
    const q8 = new Uint8Array(await (await fetch(int8)).arrayBuffer());
    const g8 = await glue.Recommender.create(q8, 'webgpu');
    const c8 = await glue.Recommender.create(q8, 'cpu');
    const o8 = { k: 10, events: [{ item: 'i00021', event: 'purchase', ts: 0 }], now: 1 };
    return {
      int8: { backend: g8.backend, dtype: g8.info().dtype, gpu: (await g8.recommendAsync(o8)).map((x) => x.id), cpu: c8.recommend(o8).map((x) => x.id) },
      probe: auto.backendProbe, backend: auto.backend, cpuProbe: cpu.backendProbe, cpuBackend: cpu.backend,
      gpu: await gpu.recommendAsync(opts), cpu: cpu.recommend(opts), auto: await auto.recommendAsync(opts),
      gpuVec: await gpu.recommendVectorAsync(x, { k: 10 }), cpuVec: cpu.recommendVector(x, { k: 10 }),
    };
  }, [BIG, INT8]);
  // int8: the probe query is checked against the f32 twin of what the GPU holds, so it passes;
  // against the CPU's int8 kernel the top-10 differs only by quantization
  assert.deepEqual([r.int8.backend, r.int8.dtype], ['webgpu', 'int8']);
  const overlap = r.int8.gpu.filter((id) => r.int8.cpu.includes(id)).length;
  assert.ok(overlap >= 8, `int8 top-10 overlap GPU vs CPU kernel: ${overlap}/10`);
  assert.equal(typeof r.probe.cpuMs, 'number');
  assert.equal(typeof r.probe.gpuMs, 'number');
  assert.equal(typeof r.probe.adapter, 'string'); // wgpu's web backend leaves the adapter name empty
  assert.match(r.probe.reason, new RegExp(`^${r.backend}: [0-9.]+ ms vs [0-9.]+ ms`));
  assert.equal(r.backend, r.probe.gpuMs < r.probe.cpuMs ? 'webgpu' : 'cpu');
  assert.deepEqual([r.cpuProbe, r.cpuBackend], [null, 'cpu']);
  assertSameRanking(r.gpu, r.cpu, 'webgpu recommendAsync');
  assertSameRanking(r.auto, r.cpu, 'auto recommendAsync');
  assertSameRanking(r.gpuVec.map((x) => ({ ...x, because: [] })), r.cpuVec.map((x) => ({ ...x, because: [] })), 'recommendVectorAsync');
  assert.deepEqual(errors, []);
  await context.close();
});
