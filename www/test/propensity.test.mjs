// The shop's "Purchase intent" panel: hearth-ml's model.predict() on the propensity model the
// build trained on UCI Online Shoppers (tools/shop_propensity.py, skl2onnx, its feature spec in
// the model's metadata). After each product view the panel's P(purchase) must equal onnxruntime
// in Python on the same visit features, encoded into the model's inputs independently here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { serve, launch, open, dist } from './helpers.mjs';

let server, browser, context, page, errors;

before(async () => {
  server = await serve();
  browser = await launch();
  ({ context, page, errors } = await open(browser, server.base));
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});

/** onnxruntime's P(purchase) for visit features, fed to the model's inputs by their ONNX names. */
function onnxruntime(f) {
  const feeds = {
    ProductRelated: f.productViews, ProductRelated_Duration: f.productSeconds, Administrative: f.cartViews,
    Informational: 0, BounceRates: NaN, ExitRates: NaN, SpecialDay: 0, Weekend: f.weekend ? 1 : 0,
  };
  const py = `
import json, sys, numpy as np, onnxruntime as ort
f = json.loads(sys.argv[2])
s = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
feeds = {k: np.array([[float("nan") if v is None else v]], dtype=np.float32) for k, v in f["numbers"].items()}
feeds["Month"] = np.array([[f["month"]]], dtype=object)
feeds["VisitorType"] = np.array([[f["visitorType"]]], dtype=object)
print(json.dumps(s.run(None, feeds)[1][0][1]))`;
  const arg = JSON.stringify({ numbers: Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, Number.isNaN(v) ? null : v])), month: f.month, visitorType: f.visitorType });
  return Number(execFileSync('python3', ['-c', py, path.join(dist, 'propensity.onnx'), arg], { encoding: 'utf8' }));
}

async function panel() {
  return page.locator('#propensity').evaluate((s) => ({
    p: Number(s.querySelector('#propensity-p').dataset.p),
    shown: s.querySelector('#propensity-p').textContent,
    features: JSON.parse(s.dataset.features ?? 'null'),
  }));
}

test('the purchase-intent panel equals onnxruntime on the visit features', async () => {
  await page.waitForFunction(() => document.querySelector('#propensity')?.dataset.features);
  const first = await panel();
  assert.equal(first.features.productViews, 0);
  assert.equal(first.features.visitorType, 'New_Visitor');
  let seen = [first];
  for (let i = 0; i < 3; i++) {
    await page.locator('#catalog li.card a.card-link, #recs li.card a.card-link').nth(i).click();
    await page.waitForFunction((n) => JSON.parse(document.querySelector('#propensity').dataset.features).productViews === n, i + 1);
    seen.push(await panel());
    await page.waitForTimeout(1100); // a second on the product page, so productSeconds moves
    if (i < 2) await page.locator('.crumbs a[href="#/"]').click();
  }
  for (const s of seen) {
    const want = onnxruntime(s.features);
    assert.ok(Math.abs(s.p - want) <= 1e-5, `P(purchase) ${s.p} vs onnxruntime ${want} for ${JSON.stringify(s.features)}`);
    assert.equal(s.shown, s.p.toFixed(2));
  }
  assert.ok(seen.at(-1).features.productViews === 3 && seen.at(-1).features.productSeconds >= 1);
  console.log(`propensity: ${seen.map((s) => s.p.toFixed(3)).join(' → ')} after 0–3 product views`);
  assert.match(await page.locator('#attribution-shoppers').textContent(), /Sakar.*UCI ML Repository dataset 468/s);
  assert.deepEqual(errors, []);
});

test('in hearth-ml\'s Web Worker (?worker=1) the panel gives the same as onnxruntime', async () => {
  const w = await open(browser, server.base, { hash: '?worker=1' });
  try {
    await w.page.waitForFunction(() => document.querySelector('#propensity')?.dataset.features);
    await w.page.locator('#catalog li.card a.card-link').first().click();
    await w.page.waitForFunction(() => JSON.parse(document.querySelector('#propensity').dataset.features).productViews === 1);
    const s = await w.page.locator('#propensity').evaluate((el) => ({
      p: Number(el.querySelector('#propensity-p').dataset.p), features: JSON.parse(el.dataset.features) }));
    const want = onnxruntime(s.features);
    assert.ok(Math.abs(s.p - want) <= 1e-5, `worker: ${s.p} vs onnxruntime ${want}`);
    assert.deepEqual(w.errors, []);
  } finally {
    await w.context.close();
  }
});
