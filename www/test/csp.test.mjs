// The built site under a strict Content-Security-Policy (no 'unsafe-eval', no 'unsafe-inline';
// 'wasm-unsafe-eval' to compile the wasm), as the README gives it: the shop starts, shows
// recommendations and personalizes after a click, the practice app takes answers, with zero
// violations (the page's
// `securitypolicyviolation` events, console errors, and the reports that the page, the hearth-ml
// worker and the service worker would POST to the policy's `report-uri`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, ready, recs, answerSome } from './helpers.mjs';

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

/**
 * A fresh context on `path` of the server under the policy: `{ context, page, errors,
 * violations(), reports() }` (the page's `securitypolicyviolation` events, recorded by a script the
 * test driver adds, which the policy does not govern; the reports POSTed to `report-uri`, waited
 * for up to 1.5 s).
 */
async function openStrict(path) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${server.base}${path}`);
  await ready(page);
  const reports = async () => {
    const t = Date.now();
    while (server.log.filter((p) => p === '/csp-report').length === 0 && Date.now() - t < 1500) await new Promise((r) => setTimeout(r, 100));
    return server.log.filter((p) => p === '/csp-report').length;
  };
  return { context, page, errors, violations: () => page.evaluate(() => window.__violations), reports };
}

test(`the shop works under "${POLICY}" with zero violations`, async () => {
  const { context, page, errors, violations, reports } = await openStrict('/');
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
  assert.equal(await reports(), 0, 'no violation report (page, worker, service worker)');
  assert.deepEqual(await violations(), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test(`the practice app works under "${POLICY}" with zero violations`, async () => {
  const { context, page, errors, violations, reports } = await openStrict('/practice.html');
  await answerSome(page, 2);
  // the mastery bars' geometry is set through the CSSOM, not a style attribute
  assert.ok((await page.locator('#mastery li .band').count()) > 0);
  assert.equal(await reports(), 0, 'no violation report');
  assert.deepEqual(await violations(), []);
  assert.deepEqual(errors, []);
  await context.close();
});
