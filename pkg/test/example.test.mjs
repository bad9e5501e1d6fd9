// The Vite example app (examples/vite-app) with the packed package installed the way a user gets
// it (`npm pack`, unpacked by scripts/prepare-tests.mjs): its production build and Vite's dev
// server, each served on 127.0.0.1 and run in Chromium. The page must show the probability the
// wasm build computes for the same session, from a worker, on the CPU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as glue from '../wasm/hearth-cpu.js';
import { serve, launch, freshPage } from './helpers/server.mjs';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(pkg, '..');
const app = path.join(pkg, 'examples/vite-app');
glue.initSync({ module: readFileSync(path.join(pkg, 'wasm/hearth-cpu_bg.wasm')) });
const session = [3, 60, 0, 0, 40, 1500, 0.005, 0.02, 25, 0, 11, 2, 2, 1, 2, 1, 0];
const want = glue.Session.fromBytes(new Uint8Array(readFileSync(path.join(root, 'models/propensity.onnx'))))
  .run({ features: { data: Float32Array.from(session), dims: [1, 17] } }).purchase_probability.data[0];

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function check(base, log) {
  const { context, page, errors } = await freshPage(browser, base);
  const out = page.locator('#out');
  await out.and(page.locator('[data-p], [data-error]')).waitFor({ timeout: 30000 });
  const data = await out.evaluate((el) => ({ ...el.dataset, text: el.textContent }));
  assert.equal(data.error, undefined, `the page failed: ${data.text}`);
  assert.deepEqual(errors, []);
  assert.equal(Number(data.p), want);
  assert.equal(data.backend, 'cpu');
  assert.equal(data.worker, 'true');
  assert.match(data.text, /P\(purchase\) = 0\.\d{3} on cpu in a worker/);
  if (log) {
    // a reload is served from the Cache API: no second model request
    const n = log.filter((p) => p === '/propensity.onnx').length;
    assert.equal(n, 1);
    await page.reload();
    await out.and(page.locator('[data-p]')).waitFor({ timeout: 30000 });
    assert.equal(log.filter((p) => p === '/propensity.onnx').length, 1);
  }
  await context.close();
}

test('Vite production build of the example runs the model in a worker', async () => {
  const dist = path.join(app, 'dist');
  assert.ok(existsSync(path.join(dist, 'index.html')), 'run `npm test` (its pretest builds the example)');
  const server = await serve({ '/': dist });
  try {
    await check(server.base, server.log);
  } finally {
    await server.close();
  }
});

test("Vite's dev server serves the example and it runs", async () => {
  const { createServer } = await import('vite');
  // force: the package is reinstalled on every run; a stale pre-bundle of the old one would mix
  // old page code with the new worker
  const vite = await createServer({ root: app, configFile: path.join(app, 'vite.config.js'), logLevel: 'silent', optimizeDeps: { force: true }, server: { host: '127.0.0.1', port: 0, strictPort: false } });
  await vite.listen();
  try {
    const { port } = vite.httpServer.address();
    await check(`http://127.0.0.1:${port}`);
  } finally {
    await vite.close();
  }
});
