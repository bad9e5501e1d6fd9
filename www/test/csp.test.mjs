// The built shop under a strict Content-Security-Policy (no 'unsafe-eval', no 'unsafe-inline';
// 'wasm-unsafe-eval' to compile the wasm), as the README gives it: it starts, shows
// recommendations, personalizes after a click, with zero violations (the page's
// `securitypolicyviolation` events, console errors, and the reports that the page, the hearth-ml
// worker and the service worker would POST to the policy's `report-uri`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, ready, recs } from './helpers.mjs';

const POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";
let server, browser;

before(async () => {
  server = await serve(undefined, { headers: { 'content-security-policy': `${POLICY}; report-uri /csp-report` } });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test(`the shop works under "${POLICY}" with zero violations`, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  // added by the test driver, not the page (so the policy does not apply to it)
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${server.base}/`);
  await ready(page);
  const cold = await recs(page);
  assert.equal(cold.mode, 'popular');
  assert.equal(cold.items.length, 10, 'recommendations are shown');
  // a product view (recorded in IndexedDB, folded in by the worker) personalizes the list
  const id = await page.locator('#catalog li.card').first().getAttribute('data-id');
  await page.evaluate(() => { document.querySelector('#update-latency').dataset.ms = ''; });
  await page.locator('#catalog li.card a.card-link').first().click();
  await page.locator(`article.product[data-id="${id}"]`).waitFor();
  await page.locator('#similar li.card').first().waitFor();
  await page.waitForFunction(() => document.querySelector('#update-latency').dataset.ms !== '');
  const personal = await recs(page);
  assert.equal(personal.mode, 'personal');
  assert.ok(!personal.items.some((x) => x.id === id));
  const t = Date.now();
  while (server.log.filter((p) => p === '/csp-report').length === 0 && Date.now() - t < 1500) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(errors, []);
  assert.equal(server.log.filter((p) => p === '/csp-report').length, 0, 'no violation report (page, worker, service worker)');
  await context.close();
});
