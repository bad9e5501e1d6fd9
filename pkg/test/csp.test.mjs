// hearth-ml under a strict Content-Security-Policy: no 'unsafe-eval', no 'unsafe-inline', only
// 'wasm-unsafe-eval' to compile the wasm. A page made only of same-origin files runs a model in
// the worker and inline and a recommendation, with zero CSP violations (the page's
// `securitypolicyviolation` events, its console errors, and the violation reports the page and
// the worker would POST to the policy's `report-uri`). The same page under the policy without
// 'wasm-unsafe-eval' shows that a violation would be seen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch } from './helpers/server.mjs';
import { shopBundle } from './helpers/bundle.mjs';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(pkg, '..');
export const POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";

const page = new TextEncoder().encode('<!doctype html><title>hearth-ml under CSP</title><script type="module" src="/csp/main.js"></script>');
const main = new TextEncoder().encode(`
const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective + ' ' + e.blockedURI));
window.violations = violations;
const { Hearth } = await import('/pkg/dist/index.js');
const x = Float32Array.from([3, 60, 0, 0, 40, 1500, 0.005, 0.02, 25, 0, 11, 2, 2, 1, 2, 1, 0]);
try {
  const res = {};
  for (const worker of [true, false]) {
    const h = await Hearth.init({ worker });
    const m = await h.loadModel('/models/propensity.onnx');
    res[worker ? 'worker' : 'inline'] = (await m.run({ features: { data: x.slice(), dims: [1, 17] } })).purchase_probability.data[0];
  }
  const h = await Hearth.init();
  const shop = await h.loadRecommender('/shop.hearth');
  const me = await shop.profile();
  await me.record({ item: 'K1', event: 'purchase' });
  res.recs = (await shop.recommend({ profile: me, k: 2 })).map((r) => r.id).sort();
  await me.clear();
  window.result = res;
} catch (e) {
  window.result = { error: e.name + ': ' + e.message };
}
`);

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function visit(policy) {
  const server = await serve({ '/pkg': pkg, '/models': path.join(root, 'models') },
    { '/csp/index.html': page, '/csp/main.js': main, '/shop.hearth': shopBundle(), '/favicon.ico': new Uint8Array(0) },
    { headers: { 'content-security-policy': `${policy}; report-uri /csp-report` } });
  const context = await browser.newContext();
  const p = await context.newPage();
  const errors = [];
  p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  p.on('pageerror', (e) => errors.push(String(e)));
  try {
    await p.goto(server.base + '/csp/index.html');
    await p.waitForFunction(() => window.result !== undefined, null, { timeout: 30000 });
    // reports are sent in the background
    const t = Date.now();
    while (server.count('/csp-report') === 0 && Date.now() - t < 1500) await new Promise((r) => setTimeout(r, 100));
    return { result: await p.evaluate(() => window.result), violations: await p.evaluate(() => window.violations), errors, reports: server.count('/csp-report') };
  } finally {
    await context.close();
    await server.close();
  }
}

test(`CSP: models (worker and inline) and recommendations work under "${POLICY}" with zero violations`, async () => {
  const r = await visit(POLICY);
  assert.equal(r.result.error, undefined, r.result.error);
  assert.ok(r.result.worker > 0 && r.result.worker < 1);
  assert.equal(r.result.inline, r.result.worker);
  assert.deepEqual(r.result.recs, ['K2', 'K3'], 'a kitchen buyer gets kitchen items');
  assert.deepEqual(r.violations, []);
  assert.deepEqual(r.errors, [], 'no console error');
  assert.equal(r.reports, 0, 'no violation report from the page or the worker');
});

test('CSP: without wasm-unsafe-eval the same page reports the violation (the check above can fail)', async () => {
  const r = await visit("default-src 'self'; script-src 'self'; worker-src 'self'");
  assert.match(r.result.error, /BACKEND_UNAVAILABLE|wasm could not start|WebAssembly/);
  assert.ok(r.reports > 0, 'the worker reported the violation');
});
