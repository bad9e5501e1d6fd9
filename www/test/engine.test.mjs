// The engine panel and the offline path: the first visit downloads the bundle once and says so;
// forcing CPU starts a second engine (bundle from the Cache API, code from the service worker:
// the server sees nothing) whose top-10 must match the running one; forcing WebGPU (this browser
// runs with --enable-unsafe-webgpu: SwiftShader's adapter) moves the top-k scan to the GPU, and its
// top-10 must match the CPU's; a browser without an adapter gets the package's
// BACKEND_UNAVAILABLE while the CPU engine keeps serving. With the network cut after the first
// visit, the shop still opens and recommends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, open, ready, recs, KITCHEN } from './helpers.mjs';

let server, browser;

before(async () => {
  server = await serve();
  browser = await launch({ webgpu: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * Waits until the home page is back and its recommendation list rendered (the catalog appears
 * at once, the list when recommend() answers: reading it before gave an empty top-10 under load).
 */
async function homeRendered(page) {
  await page.waitForFunction(() => document.querySelector('#catalog li.card') && document.querySelector('#recs')?.dataset.mode
    && document.querySelector('#recs li'), null, { timeout: 30000 });
}

/** Views the first three kitchen products, so the top-10 is a personal one. */
async function viewKitchen(page) {
  await page.selectOption('#category', KITCHEN);
  for (let i = 0; i < 3; i++) {
    await page.locator('#catalog li.card a.card-link').nth(i).click();
    await page.locator('#similar li.card').first().waitFor();
    await page.goBack();
    await homeRendered(page);
  }
  await page.waitForFunction(() => document.querySelector('#recs')?.dataset.mode === 'personal');
}

async function choose(page, backend) {
  await page.locator('#backend-status').evaluate((e) => { e.dataset.state = ''; });
  await page.locator(`input[name=backend][value=${backend}]`).click();
  await page.waitForFunction(() => ['ok', 'unavailable'].includes(document.querySelector('#backend-status').dataset.state), null, { timeout: 60000 });
  return page.locator('#backend-status').evaluate((e) => ({ ...e.dataset, text: e.textContent }));
}

test('engine panel: first visit downloads the bundle once and reports its size, backend and latency', async () => {
  const { context, page, errors } = await open(browser, server.base);
  try {
    assert.equal(await page.locator('#cache-status').getAttribute('data-cache'), 'network');
    // auto on a browser whose only WebGPU adapter is SwiftShader (software): the CPU, and why
    assert.equal(await page.locator('#backend').getAttribute('data-backend'), 'cpu');
    assert.match(await page.locator('#backend').textContent(), /^CPU — WebAssembly SIMD128, on the page's thread$/);
    assert.match(await page.locator('#backend-reason').textContent(), /^ \(the only WebGPU adapter is a software fallback \(.*\): WebAssembly SIMD128 on the CPU is faster\)$/);
    assert.match(await page.locator('#model-size').textContent(), /MB \([\d,]+ B\), ready in [\d.]+ ms/);
    assert.match(await page.locator('#model-info').textContent(), /^3,\d{3} items × 64 dims, f32 table/);
    assert.ok(Number(await page.locator('#latency').getAttribute('data-ms')) > 0);
    assert.equal(server.log.filter((p) => p === '/shop.hearth').length, 1);
    assert.equal(await page.locator('body').getAttribute('data-sw'), 'ready');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('backend toggle: forcing CPU starts a new engine that agrees on the top-10, without a request', async () => {
  const { context, page, errors } = await open(browser, server.base);
  try {
    await viewKitchen(page);
    const before = (await recs(page)).items.map((r) => r.id);
    const logAt = server.log.length;
    const s = await choose(page, 'cpu');
    assert.equal(s.state, 'ok', s.text);
    assert.equal(s.agree, '10', s.text);
    assert.match(s.text, /Now running on CPU \(asked for cpu\)\. Its top-10 matches the previous engine's at 10 of 10 positions/);
    assert.equal(await page.locator('#backend').getAttribute('data-backend'), 'cpu');
    assert.equal(await page.locator('#cache-status').getAttribute('data-cache'), 'cache', 'the new engine read the bundle from the Cache API');
    assert.deepEqual((await recs(page)).items.map((r) => r.id), before);
    assert.deepEqual(server.log.slice(logAt), [], 'the new engine came from the service worker and the Cache API');
    // and the new engine serves clicks
    await page.locator('#catalog li.card a.card-link').nth(3).click();
    await page.locator('#similar li.card').first().waitFor();
    assert.equal(await page.locator('#event-count').getAttribute('data-count'), '4');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

/** Clicks `n` kitchen products (back to the grid after each); the engine panel's recommend() times. */
async function clickTimes(page, from, n) {
  const ms = [];
  await page.selectOption('#category', KITCHEN);
  for (let i = from; i < from + n; i++) {
    await page.evaluate(() => { document.querySelector('#update-latency').dataset.ms = ''; });
    await page.locator('#catalog li.card a.card-link').nth(i).click();
    await page.waitForFunction(() => document.querySelector('#update-latency').dataset.ms !== '');
    ms.push(Number(await page.locator('#latency').getAttribute('data-ms')));
    await page.goBack();
    await homeRendered(page);
  }
  return ms.sort((a, b) => a - b)[ms.length >> 1];
}

test('backend toggle: WebGPU scores on the GPU and agrees with the CPU top-10; back to CPU agrees too', async () => {
  const { context, page, errors } = await open(browser, server.base);
  try {
    await viewKitchen(page);
    const s = await choose(page, 'webgpu');
    assert.equal(s.state, 'ok', s.text);
    assert.equal(s.agree, '10', s.text);
    assert.match(s.text, /Now running on WEBGPU \(asked for webgpu\)\. Its top-10 matches the previous engine's at 10 of 10 positions/);
    assert.equal(await page.locator('#backend').getAttribute('data-backend'), 'webgpu');
    assert.match(await page.locator('#backend').textContent(), /^WebGPU — .*(google|swiftshader).*, on the page's thread$/i);
    assert.match(await page.locator('#latency').textContent(), /\(WEBGPU\)$/);
    const gpuMs = await clickTimes(page, 3, 5);
    const onGpu = (await recs(page)).items.map((r) => r.id);
    const back = await choose(page, 'cpu');
    assert.equal(back.state, 'ok', back.text);
    assert.equal(back.agree, '10', back.text);
    assert.equal(await page.locator('#backend').getAttribute('data-backend'), 'cpu');
    assert.equal((await recs(page)).items.length, onGpu.length);
    const cpuMs = await clickTimes(page, 8, 5);
    // SwiftShader emulates the GPU on the CPU: these are not GPU figures
    console.log(`# recommend() median on the page's thread: WebGPU (SwiftShader) ${gpuMs.toFixed(2)} ms, CPU ${cpuMs.toFixed(2)} ms`);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('backend toggle without a WebGPU adapter: BACKEND_UNAVAILABLE from the package, the CPU engine keeps running', async () => {
  const plain = await launch();
  const { context, page, errors } = await open(plain, server.base);
  try {
    await viewKitchen(page);
    const before = (await recs(page)).items.map((r) => r.id);
    const s = await choose(page, 'webgpu');
    assert.equal(s.state, 'unavailable', s.text);
    assert.equal(s.code, 'BACKEND_UNAVAILABLE');
    console.log(`# ${s.text}`);
    assert.match(s.text, /^webgpu is unavailable \(BACKEND_UNAVAILABLE\): backend 'webgpu' is not available: .*navigator\.gpu/);
    assert.match(s.text, /(no navigator\.gpu|gives no adapter)\. Still running on CPU\.$/);
    assert.equal(await page.locator('#backend').getAttribute('data-backend'), 'cpu');
    assert.ok(await page.locator('input[name=backend][value=auto]').isChecked(), 'the toggle returns to the running engine');
    // the CPU engine still answers
    await page.locator('#catalog li.card a.card-link').nth(3).click();
    await page.locator('#similar li.card').first().waitFor();
    await page.goBack();
    await homeRendered(page);
    const after = (await recs(page)).items.map((r) => r.id);
    assert.notDeepEqual(after, before, 'a fourth view changed the recommendations');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await plain.close();
  }
});

test('offline after the first visit: the shop opens from the service worker and recommends from the Cache API', async () => {
  const { context, page, errors } = await open(browser, server.base);
  try {
    await context.setOffline(true);
    const logAt = server.log.length;
    await page.reload();
    await ready(page);
    assert.equal(await page.evaluate(() => navigator.onLine), false, 'the browser is offline');
    assert.equal(await page.locator('#cache-status').getAttribute('data-cache'), 'cache');
    assert.equal((await recs(page)).mode, 'popular');
    await viewKitchen(page);
    const r = await recs(page);
    assert.equal(r.mode, 'personal');
    assert.equal(r.items.length, 10);
    assert.deepEqual(server.log.slice(logAt), [], 'nothing reached the server while offline');
    assert.equal(await page.locator('#request-count').getAttribute('data-count'), '0');
    assert.deepEqual(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e)), []);
  } finally {
    await context.setOffline(false);
    await context.close();
  }
});
