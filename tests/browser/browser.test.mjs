// Hearth's CPU wasm build in headless Chromium: the page imports the test build of hearth-cpu
// (tests/wasm-build/hearth-cpu.js: the shipped build plus feature `test-api`) from a
// server on 127.0.0.1, runs model fixtures against their onnxruntime outputs, and reports which
// SIMD build ran. Needs Debian's chromium (scripts/setup.sh installs it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
let server, browser, base;

before(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const file = path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(root) || !existsSync(file)) { res.writeHead(404); res.end(); return; }
    if (url.pathname === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><title>hearth</title>'); return; }
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
    res.end(await readFile(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('model fixtures pass in Chromium', async () => {
  const page = await browser.newPage();
  await page.goto(base + '/');
  const results = await page.evaluate(async (names) => {
    const hearth = await import('/tests/wasm-build/hearth-cpu.js');
    await hearth.default();
    const bytes = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
    const pbs = async (dir, prefix) => {
      const out = [];
      for (let k = 0; ; k++) {
        const r = await fetch(`${dir}/${prefix}_${k}.pb`);
        if (!r.ok) break;
        out.push(new Uint8Array(await r.arrayBuffer()));
      }
      return out;
    };
    const out = {};
    for (const n of names) {
      const dir = `/tests/models/${n}`;
      out[n] = hearth.conformanceCase(await bytes(`${dir}/model.onnx`),
        await pbs(`${dir}/test_data_set_0`, 'input'), await pbs(`${dir}/test_data_set_0`, 'output'));
    }
    return out;
  }, ['mlp', 'lenet', 'lstm_kt', 'gru_next_item', 'attention', 'dynamic_reshape', 'propensity']);
  for (const [name, r] of Object.entries(results)) assert.equal(r.outcome, 'pass', `${name}: ${r.outcome} ${r.detail}`);
});

test('typed errors reach the page', async () => {
  const page = await browser.newPage();
  await page.goto(base + '/');
  const code = await page.evaluate(async () => {
    const hearth = await import('/tests/wasm-build/hearth-cpu.js');
    await hearth.default();
    try { hearth.Session.fromBytes(new Uint8Array([8, 1, 2, 3])); return 'no error'; } catch (e) { return e.code; }
  });
  assert.equal(code, 'MODEL_INVALID');
});
