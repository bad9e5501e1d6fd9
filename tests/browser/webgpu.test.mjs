// The CPU + WebGPU wasm build in headless Chromium (its test build tests/wasm-build/hearth.js: the
// shipped pkg/wasm/hearth.js plus feature `test-api`, made by scripts/build-wasm.sh)
// with WebGPU on SwiftShader (--enable-unsafe-webgpu; a CPU emulation, so no timing here is a GPU
// figure): every model fixture on 'webgpu' agrees with 'cpu', the GPU really ran its ops, a lost
// device moves the session to the CPU with the same outputs, and 'auto' reports its probe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { nodeDataDir, nodeCases, judge } from '../conformance.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
let server, browser, base;
const nodeDir = nodeDataDir();

before(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    // /__onnx__/… serves the ONNX node-test data from the cache
    const file = url.pathname.startsWith('/__onnx__/')
      ? path.join(nodeDir, decodeURIComponent(url.pathname.slice('/__onnx__/'.length)))
      : path.join(root, decodeURIComponent(url.pathname));
    if (url.pathname === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><title>hearth</title>'); return; }
    if (!(file.startsWith(root) || file.startsWith(nodeDir)) || !existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
    res.end(await readFile(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

// In the page: load fixture `name` on both backends, run test_data_set_0, compare.
async function pageSetup(page) {
  await page.goto(base + '/');
  await page.evaluate(async () => {
    const hearth = await import('/tests/wasm-build/hearth.js');
    await hearth.default();
    const bytes = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
    const pbs = async (dir, prefix) => {
      const out = [];
      for (let k = 0; ; k++) {
        const r = await fetch(`${dir}/${prefix}_${k}.pb`);
        if (!r.ok) break;
        out.push(hearth.decodeTensorProto(new Uint8Array(await r.arrayBuffer())));
      }
      return out;
    };
    window.fixture = async (name) => {
      const dir = `/tests/models/${name}`;
      const model = await bytes(`${dir}/model.onnx`);
      const inputs = await pbs(`${dir}/test_data_set_0`, 'input');
      const feeds = Object.fromEntries(inputs.map((t) => [t.name, t]));
      return { model, feeds };
    };
    // largest |gpu - cpu| - (atol + rtol |cpu|) over all outputs (≤ 0 means within tolerance)
    window.worst = (a, b, atol, rtol) => {
      let w = -Infinity;
      for (const k of Object.keys(b)) {
        const x = a[k].data, y = b[k].data;
        if (x.length !== y.length) return Infinity;
        for (let i = 0; i < y.length; i++) w = Math.max(w, Math.abs(Number(x[i]) - Number(y[i])) - (atol + rtol * Math.abs(Number(y[i]))));
      }
      return w;
    };
    window.hearth = hearth;
  });
}

test('WebGPU starts on SwiftShader and every fixture matches the CPU backend', async () => {
  const page = await browser.newPage();
  await pageSetup(page);
  const results = await page.evaluate(async (names) => {
    const out = {};
    for (const n of names) {
      const { model, feeds } = await window.fixture(n);
      const cpu = await window.hearth.Session.create(model, 'cpu');
      const gpu = await window.hearth.Session.create(model, 'webgpu');
      const want = await cpu.runAsync(feeds);
      const got = await gpu.runAsync(feeds);
      out[n] = { backend: gpu.backend, worst: window.worst(got, want, 1e-5, 1e-4), placement: gpu.placement, fallback: gpu.fallbackReason ?? null };
    }
    return out;
  }, ['mlp', 'logreg', 'propensity', 'attention', 'attention_gelu21', 'lenet', 'lstm_kt', 'gru_next_item', 'dynamic_reshape', 'f16_io', 'f64_io']);
  for (const [name, r] of Object.entries(results)) {
    assert.equal(r.backend, 'webgpu', `${name}: ${JSON.stringify(r)}`);
    assert.equal(r.fallback, null, `${name} fell back: ${r.fallback}`);
    assert.ok(r.worst <= 0, `${name}: outputs differ from the CPU by ${r.worst} beyond 1e-5 + 1e-4|cpu|`);
    assert.ok(Object.keys(r.placement.gpu).length > 0, `${name}: nothing ran on the GPU`);
  }
  assert.deepEqual(Object.keys(results.mlp.placement.cpu), [], 'the MLP runs wholly on the GPU');
  assert.ok(results.attention.placement.gpu.Softmax >= 1);
});

test('a lost device moves the session to the CPU with the same outputs', async () => {
  const page = await browser.newPage();
  await pageSetup(page);
  const r = await page.evaluate(async () => {
    const { model, feeds } = await window.fixture('attention');
    const s = await window.hearth.Session.create(model, 'webgpu');
    const before = await s.runAsync(feeds);
    const b0 = s.backend;
    s.destroyGpuDeviceForTest();
    const after = await s.runAsync(feeds);
    const again = await s.runAsync(feeds);
    // a new session on the page gets a new device
    const fresh = await window.hearth.Session.create(model, 'webgpu');
    const f = await fresh.runAsync(feeds);
    return { b0, b1: s.backend, reason: s.fallbackReason, worst: window.worst(after, before, 1e-5, 1e-4),
      worstAgain: window.worst(again, before, 1e-5, 1e-4), fresh: fresh.backend, worstFresh: window.worst(f, before, 1e-5, 1e-4) };
  });
  assert.equal(r.b0, 'webgpu');
  assert.equal(r.b1, 'cpu', JSON.stringify(r));
  assert.match(r.reason, /lost/);
  assert.ok(r.worst <= 0 && r.worstAgain <= 0, JSON.stringify(r));
  assert.equal(r.fresh, 'webgpu');
  assert.ok(r.worstFresh <= 0, JSON.stringify(r));
});

test('a shader the browser rejects moves the session to the CPU instead of returning what an invalid pipeline left', async () => {
  const page = await browser.newPage();
  await pageSetup(page);
  const r = await page.evaluate(async () => {
    const { model, feeds } = await window.fixture('attention');
    const s = await window.hearth.Session.create(model, 'webgpu');
    const before = await s.runAsync(feeds);
    const b0 = s.backend;
    // Chromium reports an invalid pipeline only as a console warning; the error scope must catch it
    s.compileShaderForTest('@compute @workgroup_size(1) fn main() { let x: f32 = -3.40282347e+38; }');
    const after = await s.runAsync(feeds);
    return { b0, b1: s.backend, reason: s.fallbackReason, worst: window.worst(after, before, 1e-5, 1e-4) };
  });
  assert.equal(r.b0, 'webgpu');
  assert.equal(r.b1, 'cpu', JSON.stringify(r));
  assert.match(r.reason, /shader 'test' did not compile/);
  assert.ok(r.worst <= 0, JSON.stringify(r));
});

test("'auto' measures both backends and reports what runs; the sync run of a GPU session is refused", async () => {
  const page = await browser.newPage();
  await pageSetup(page);
  const r = await page.evaluate(async () => {
    const { model, feeds } = await window.fixture('mlp');
    const s = await window.hearth.Session.create(model, 'auto');
    const p = s.backendProbe;
    await s.runAsync(feeds);
    const g = await window.hearth.Session.create(model, 'webgpu');
    let code = null;
    try { g.run(feeds); } catch (e) { code = e.code; }
    let bad = null;
    try { await window.hearth.Session.create(model, 'gpu'); } catch (e) { bad = e.code; }
    return { backend: s.backend, probe: p, syncCode: code, bad };
  });
  console.log(`auto on the mlp in Chromium: ${JSON.stringify(r.probe)} (SwiftShader: a CPU emulation)`);
  assert.ok(r.probe.cpuMs > 0 && r.probe.gpuMs > 0, JSON.stringify(r)); // both measured
  assert.equal(r.backend, r.probe.gpuMs < r.probe.cpuMs ? 'webgpu' : 'cpu');
  assert.ok(r.probe.reason.startsWith(r.backend));
  assert.equal(r.syncCode, 'ARGUMENT');
  assert.equal(r.bad, 'ARGUMENT');
});

test('10,000 runs on WebGPU keep the wasm heap and the GPU buffers flat', { timeout: 600_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(base + '/');
  const r = await page.evaluate(async () => {
    const hearth = await import('/tests/wasm-build/hearth.js');
    const wasm = await hearth.default();
    const model = new Uint8Array(await (await fetch('/tests/models/mlp/model.onnx')).arrayBuffer());
    const s = await hearth.Session.create(model, 'webgpu');
    const x = new Float32Array(17);
    const run = (k) => { x[k % 17] = k % 5; return s.runAsync({ [s.inputs[0].name]: { data: x, dims: [1, 17] } }); };
    for (let k = 0; k < 10; k++) await run(k); // warm: the pool has every size it needs
    const heap0 = wasm.memory.buffer.byteLength, gpu0 = s.gpuBuffers;
    const t0 = performance.now();
    for (let k = 0; k < 10_000; k++) await run(k);
    const ms = (performance.now() - t0) / 10_000;
    return { heap0, heap1: wasm.memory.buffer.byteLength, gpu0, gpu1: s.gpuBuffers, backend: s.backend, ms };
  });
  console.log(`10,000 mlp runs on SwiftShader WebGPU (a CPU emulation, not a GPU figure): ${r.ms.toFixed(3)} ms/run; heap ${r.heap0} → ${r.heap1} B; GPU buffers ${JSON.stringify(r.gpu0)} → ${JSON.stringify(r.gpu1)}`);
  assert.equal(r.backend, 'webgpu');
  assert.equal(r.heap1, r.heap0, 'the wasm heap grew');
  assert.equal(r.gpu1.created, r.gpu0.created, 'GPU buffers were created after warm-up');
  assert.equal(r.gpu1.createdBytes, r.gpu0.createdBytes);
});

// The ONNX node-test suite in Chromium with every node a shader covers on SwiftShader's WebGPU,
// judged as natively (hearth::conformance) with the same lists (tests/conformance.mjs).
test('ONNX node tests on WebGPU in Chromium', { timeout: 900_000 }, async () => {
  const cases = nodeCases(nodeDir);
  const page = await browser.newPage();
  await page.goto(base + '/');
  const results = await page.evaluate(async (cases) => {
    const hearth = await import('/tests/wasm-build/hearth.js');
    await hearth.default();
    const get = async (p) => { const r = await fetch(p); return r.ok ? new Uint8Array(await r.arrayBuffer()) : null; };
    const pbs = async (dir, prefix) => {
      const out = [];
      for (let k = 0; ; k++) { const b = await get(`${dir}/${prefix}_${k}.pb`); if (!b) break; out.push(b); }
      return out;
    };
    const out = {};
    for (const n of cases) {
      const dir = `/__onnx__/${n}`;
      out[n] = await hearth.conformanceCaseAsync(await get(`${dir}/model.onnx`),
        await pbs(`${dir}/test_data_set_0`, 'input'), await pbs(`${dir}/test_data_set_0`, 'output'), 'webgpu');
    }
    return out;
  }, cases);
  const { passed, skipped, failures } = judge(results, { gpu: true });
  console.log(`Chromium WebGPU conformance: ${passed} passed, ${failures.length} failed, ${skipped} skipped`);
  assert.deepEqual(failures, [], 'conformance failures on WebGPU in Chromium');
});
