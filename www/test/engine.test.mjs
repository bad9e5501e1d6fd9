// The engine panel and the offline path: the first visit downloads the bundle once and says so;
// forcing CPU starts a second engine (bundle from the Cache API, code from the service worker:
// the server sees nothing) whose top-10 must match the running one; forcing WebGPU must report
// the package's BACKEND_UNAVAILABLE honestly while the CPU engine keeps serving (the browser is
// started with --enable-unsafe-webgpu, so it does have a WebGPU adapter: the missing piece is
// the package's backend). With the network cut after the first visit, the shop still opens and
// recommends.
//
// When hearth-ml gains its WebGPU backend, run with HEARTH_EXPECT_WEBGPU=1: the WebGPU test then
// asserts that the WebGPU engine runs and agrees with the CPU top-10 instead.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, open, ready, recs, KITCHEN } from './helpers.mjs';

const expectWebgpu = process.env.HEARTH_EXPECT_WEBGPU === '1';
let server, browser;

before(async () => {
  server = await serve();
  browser = await launch({ webgpu: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Views the first three kitchen products, so the top-10 is a personal one. */
async function viewKitchen(page) {
  await page.selectOption('#category', KITCHEN);
  for (let i = 0; i < 3; i++) {
    await page.locator('#catalog li.card a.card-link').nth(i).click();
    await page.locator('#similar li.card').first().waitFor();
    await page.goBack();
    await page.locator('#catalog li.card').first().waitFor();
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
    assert.equal(await page.locator('#backend').getAttribute('data-backend'), 'cpu');
    assert.match(await page.locator('#backend').textContent(), /CPU — WebAssembly SIMD128, on the page's thread/);
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

test(expectWebgpu ? 'backend toggle: WebGPU runs and agrees with the CPU top-10'
  : 'backend toggle: WebGPU reports BACKEND_UNAVAILABLE from the package, the CPU engine keeps running', async () => {
  const { context, page, errors } = await open(browser, server.base);
  try {
    await viewKitchen(page);
    const before = (await recs(page)).items.map((r) => r.id);
    const s = await choose(page, 'webgpu');
    if (expectWebgpu) {
      assert.equal(s.state, 'ok', s.text);
      assert.equal(await page.locator('#backend').getAttribute('data-backend'), 'webgpu');
      assert.equal(s.agree, '10', s.text);
      return;
    }
    assert.equal(s.state, 'unavailable', s.text);
    assert.equal(s.code, 'BACKEND_UNAVAILABLE');
    console.log(`# ${s.text}`);
    assert.match(s.text, /^webgpu is unavailable \(BACKEND_UNAVAILABLE\): .*no WebGPU backend yet/);
    // the browser itself has WebGPU here (--enable-unsafe-webgpu): the page says so
    assert.match(s.text, /This browser has a WebGPU adapter\. Still running on CPU\.$/);
    assert.equal(await page.locator('#backend').getAttribute('data-backend'), 'cpu');
    assert.ok(await page.locator('input[name=backend][value=auto]').isChecked(), 'the toggle returns to the running engine');
    // the CPU engine still answers
    await page.locator('#catalog li.card a.card-link').nth(3).click();
    await page.locator('#similar li.card').first().waitFor();
    await page.goBack();
    await page.locator('#recs li.card').first().waitFor();
    const after = (await recs(page)).items.map((r) => r.id);
    assert.notDeepEqual(after, before, 'a fourth view changed the recommendations');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
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
