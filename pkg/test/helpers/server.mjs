// A static file server on 127.0.0.1 that logs every request and forbids HTTP caching
// (`Cache-Control: no-store`), so a request that does not reach it was served by the Cache API.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync, statSync, readFileSync } from 'node:fs';
import path from 'node:path';

const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };

/**
 * Serves `mounts` (`{ '/prefix': dir }`, longest prefix wins) and `extra` (`{ '/path': Uint8Array }`,
 * or a function of how many times the path was requested, this one included, giving the bytes).
 * `/` is a blank page unless a mount serves index.html there. `headers` go on every response.
 * Returns `{ base, log, count(path), close }`.
 */
export async function serve(mounts, extra = {}, { headers: more = {} } = {}) {
  const log = [];
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    log.push(url.pathname);
    const headers = { 'cache-control': 'no-store', ...more };
    if (extra[url.pathname]) {
      const e = extra[url.pathname];
      const body = typeof e === 'function' ? e(log.filter((x) => x === url.pathname).length) : e;
      res.writeHead(200, { ...headers, 'content-type': types[path.extname(url.pathname)] || 'application/octet-stream', 'content-length': body.length });
      res.end(body);
      return;
    }
    const prefix = prefixes.find((p) => url.pathname === p || url.pathname.startsWith(p.endsWith('/') ? p : p + '/'));
    let file = prefix && path.join(mounts[prefix], decodeURIComponent(url.pathname.slice(prefix.length)));
    if (file && existsSync(file) && statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!file || !file.startsWith(mounts[prefix]) || !existsSync(file)) {
      if (url.pathname === '/') {
        res.writeHead(200, { ...headers, 'content-type': 'text/html' });
        res.end('<!doctype html><title>hearth-ml test</title>');
        return;
      }
      res.writeHead(404, headers);
      res.end();
      return;
    }
    const body = await readFile(file);
    res.writeHead(200, { ...headers, 'content-type': types[path.extname(file)] || 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    log,
    count: (p) => log.filter((x) => x === p).length,
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Debian's Chromium through playwright-core, with the flags TOOLCHAIN.md lists. */
export async function launch({ webgpu = false } = {}) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // --enable-unsafe-webgpu gives headless Chromium a WebGPU adapter on SwiftShader (a CPU
    // emulation: parity, never speed); without it requestAdapter() finds none
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', ...(webgpu ? ['--enable-unsafe-webgpu'] : [])],
  });
}

/** A fresh browser profile (own caches and IndexedDB) with `base`'s blank page loaded; page errors are collected. */
export async function freshPage(browser, base) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(base + '/');
  return { context, page, errors };
}

/**
 * The package's worker script with a test prelude in front, to serve in its place
 * (`serve(mounts, { '/pkg/dist/worker.js': hookedWorker(pkg) })`). The package itself has no
 * test hooks; the prelude adds two messages the tests send with `transport.call(op)`, answered
 * before the package's own handler sees them:
 * - `__test_crash`: an uncaught error in the worker, as a bug would raise (the call stays pending);
 * - `__test_lose_gpu`: `GPUDevice.destroy()` on every device the worker requested (the prelude
 *   records them from `GPUAdapter.prototype.requestDevice`), as a driver reset would; answers
 *   with the number destroyed.
 */
export function hookedWorker(pkgDir) {
  const prelude = `{
  const devices = [];
  if (self.GPUAdapter) {
    const request = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (...a) { const d = await request.apply(this, a); devices.push(d); return d; };
  }
  self.addEventListener('message', (ev) => {
    const m = ev.data || {};
    if (m.op === '__test_crash') {
      ev.stopImmediatePropagation();
      setTimeout(() => { throw new Error('simulated worker crash (test prelude)'); });
    } else if (m.op === '__test_lose_gpu') {
      ev.stopImmediatePropagation();
      for (const d of devices) d.destroy();
      self.postMessage({ id: m.id, ok: true, value: devices.length });
    }
  });
}
`;
  const original = readFileSync(path.join(pkgDir, 'dist/worker.js'), 'utf8');
  return new TextEncoder().encode(prelude + original);
}
