// The visitor's story, in one browser profile, against the built shop on 127.0.0.1: a new
// visitor sees the bundle's most popular items; three kitchen product views shift the
// recommendations toward kitchen items (with "because you viewed" pointing at them); nothing
// reaches the server after the model loaded; a reload keeps the profile (IndexedDB); erase
// deletes it and the popular list comes back. The recommendation latencies measured by the page
// are printed and saved with the artifacts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { serve, launch, open, ready, recs, readBundle, artifacts, KITCHEN } from './helpers.mjs';

const bundle = readBundle();
let server, browser, context, page, errors;
let coldIds, kitchenViewed, personalIds;
const latencies = { recommend: [], update: [] };

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

const count = (sel) => page.locator(sel).getAttribute('data-count').then(Number);
const share = (items, cat) => items.filter((r) => r.category === cat).length / items.length;

test('a new visitor sees the most popular items (the bundle\'s popularity prior), labelled as such', async () => {
  const r = await recs(page);
  assert.equal(r.mode, 'popular');
  assert.equal(r.items.length, 10);
  assert.match(await page.locator('#recs-h').textContent(), /Popular right now/);
  assert.equal(await count('#event-count'), 0);
  const pops = bundle.items.map((it) => it.popularity).sort((a, b) => b - a);
  const tenth = pops[9];
  const shown = r.items.map((x) => bundle.byId.get(x.id).popularity);
  for (const [i, p] of shown.entries()) assert.ok(p >= tenth, `item ${r.items[i].id} (popularity ${p}) is not among the 10 most popular (>= ${tenth})`);
  for (let i = 1; i < shown.length; i++) assert.ok(shown[i] <= shown[i - 1], 'most popular first');
  assert.ok(r.items.every((x) => x.because.length === 0), 'a cold start explains nothing');
  coldIds = r.items.map((x) => x.id);
  // the catalog grid below is the whole bundle, most bought first
  assert.match(await page.locator('#match-count').textContent(), new RegExp(`^${bundle.items.length} products`));
  // the attribution lines come from the bundle and are on the page
  assert.equal(await page.locator('#attribution').getAttribute('data-from'), 'bundle');
  const attribution = await page.locator('#attribution').innerText();
  for (const line of bundle.manifest.attribution) assert.ok(attribution.includes(line), `attribution line missing: ${line}`);
  assert.match(attribution, /Chen, S\. L\. Sain, K\. Guo \(2012\)/);
  assert.match(attribution, /CC BY 4\.0/);
});

test('after viewing three kitchen items the recommendations shift toward kitchen items, explained', async () => {
  const before = await recs(page);
  const logAtStart = server.log.length;
  await page.selectOption('#category', KITCHEN);
  kitchenViewed = [];
  for (let i = 0; i < 3; i++) {
    const link = page.locator('#catalog li.card a.card-link').nth(i);
    const id = await page.locator('#catalog li.card').nth(i).getAttribute('data-id');
    assert.equal(bundle.byId.get(id).category, KITCHEN);
    await page.evaluate(() => { document.querySelector('#update-latency').dataset.ms = ''; });
    await link.click();
    await page.locator(`article.product[data-id="${id}"]`).waitFor();
    await page.locator('#similar li.card').first().waitFor();
    await page.waitForFunction(() => document.querySelector('#update-latency').dataset.ms !== '');
    latencies.recommend.push(Number(await page.locator('#latency').getAttribute('data-ms')));
    latencies.update.push(Number(await page.locator('#update-latency').getAttribute('data-ms')));
    kitchenViewed.push(id);
    // the product page's own list already reflects this view: the viewed item is left out
    const onPage = await recs(page);
    assert.equal(onPage.mode, 'personal');
    assert.ok(!onPage.items.some((x) => x.id === id), 'a viewed item is not recommended back');
    await page.goBack();
    await page.locator('#catalog li.card').first().waitFor();
  }
  assert.equal(await count('#event-count'), 3);
  const after = await recs(page);
  assert.equal(after.mode, 'personal');
  assert.match(await page.locator('#recs-h').textContent(), /Recommended for you/);
  const s0 = share(before.items, KITCHEN);
  const s1 = share(after.items, KITCHEN);
  console.log(`# kitchen share of the top-10: ${s0} for a new visitor, ${s1} after three kitchen views`);
  assert.ok(s1 > s0, `kitchen share should rise: ${s0} → ${s1}`);
  assert.ok(s1 >= 0.5, `most recommendations should be kitchen items after three kitchen views, got ${s1}`);
  for (const r of after.items) {
    assert.ok(!kitchenViewed.includes(r.id), 'viewed items are excluded');
    for (const b of r.because) assert.ok(kitchenViewed.includes(b), `because names ${b}, which was not viewed`);
  }
  assert.ok(after.items.some((r) => r.because.length > 0), 'recommendations say which views led to them');
  assert.match(await page.locator('#recs li.card .because').first().innerText(), /^Because you viewed /);
  personalIds = after.items.map((x) => x.id);
  assert.notDeepEqual(personalIds, coldIds);
  assert.equal(server.log.length, logAtStart, `no request while browsing and recommending: ${server.log.slice(logAtStart)}`);
  assert.deepEqual(errors, []);
});

test('zero network requests after the model loaded: the server saw none, the page counted none', async () => {
  const logAtStart = server.log.length;
  // more interactions: filters, diversity, a product page with similar items, the cart
  await page.locator('#in-stock').check();
  await page.locator('#price-max').fill('5');
  await page.locator('#diversity').fill('0.6');
  await page.locator('#q').fill('mug');
  await page.locator('#catalog li.card a.card-link').first().click();
  await page.locator('#similar li.card').first().waitFor();
  await page.locator('#add-to-cart').click();
  await page.waitForFunction(() => Number(document.querySelector('#event-count').dataset.count) === 5);
  await page.locator('#cart-link').click();
  await page.locator('#view h1', { hasText: 'Your cart' }).waitFor();
  assert.equal(await page.locator('#cart-count').textContent(), '1');
  await page.evaluate(() => { location.hash = '#/'; });
  await page.locator('#recs li.card').first().waitFor();
  // reset the controls for the next tests
  await page.locator('#in-stock').uncheck();
  await page.locator('#price-max').fill('');
  await page.locator('#diversity').fill('0');
  await page.locator('#q').fill('');
  await page.waitForTimeout(300);
  assert.deepEqual(server.log.slice(logAtStart), [], 'the server saw no request');
  assert.equal(await count('#request-count'), 0, 'the privacy panel counts no request');
  assert.equal(await page.locator('#request-count').textContent(), '0');
});

test('a reload keeps the profile (IndexedDB) and the same recommendations, without downloading the model again', async () => {
  // remove the two mug events' effect by comparing against a fresh measurement before reload
  const beforeReload = await recs(page);
  const events = await count('#event-count');
  await page.reload();
  await ready(page);
  assert.equal(await count('#event-count'), events);
  const r = await recs(page);
  assert.equal(r.mode, 'personal');
  assert.deepEqual(r.items.map((x) => x.id), beforeReload.items.map((x) => x.id));
  assert.equal(await page.locator('#cache-status').getAttribute('data-cache'), 'cache');
  assert.equal(server.log.filter((p) => p === '/shop.hearth').length, 1, 'the bundle was downloaded once, on the first visit');
  const databases = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  assert.ok(databases.some((n) => n.startsWith('hearth-ml-profile:')), `profile database exists: ${databases}`);
});

test('erase deletes the profile and the cart; recommendations revert to the popular items, also after a reload', async () => {
  await page.locator('#erase').click();
  await page.waitForFunction(() => document.querySelector('#recs')?.dataset.mode === 'popular');
  assert.equal(await count('#event-count'), 0);
  assert.equal(await page.locator('#cart-count').textContent(), '0');
  assert.deepEqual((await recs(page)).items.map((x) => x.id), coldIds);
  const databases = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  assert.ok(!databases.some((n) => n.startsWith('hearth-ml-profile:')), `the IndexedDB database is deleted: ${databases}`);
  await page.reload();
  await ready(page);
  assert.equal(await count('#event-count'), 0);
  const r = await recs(page);
  assert.equal(r.mode, 'popular');
  assert.deepEqual(r.items.map((x) => x.id), coldIds);
  assert.deepEqual(errors, []);
});

/** Clicks `n` kitchen products from the grid (back to the grid after each); returns the page's measurements. */
async function measureClicks(p, from, n) {
  const out = { recommend: [], update: [] };
  await p.selectOption('#category', KITCHEN);
  for (let i = from; i < from + n; i++) {
    await p.evaluate(() => { document.querySelector('#update-latency').dataset.ms = ''; });
    await p.locator('#catalog li.card a.card-link').nth(i).click();
    await p.waitForFunction(() => document.querySelector('#update-latency').dataset.ms !== '');
    out.recommend.push(Number(await p.locator('#latency').getAttribute('data-ms')));
    out.update.push(Number(await p.locator('#update-latency').getAttribute('data-ms')));
    await p.goBack();
    await p.locator('#catalog li.card').first().waitFor();
  }
  return out;
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

test('recommendation latency is measured on the page and reported (page thread and worker)', async () => {
  const onPage = await measureClicks(page, 3, 10);
  onPage.recommend.unshift(...latencies.recommend);
  onPage.update.unshift(...latencies.update);
  const inWorker = await open(browser, server.base, { hash: '?worker=1' });
  try {
    assert.match(await page.locator('#backend').textContent(), /on the page's thread/);
    assert.match(await inWorker.page.locator('#backend').textContent(), /in a Web Worker/);
    const worker = await measureClicks(inWorker.page, 0, 13);
    const summary = {};
    for (const [mode, m] of [['page thread', onPage], ['worker', worker]]) {
      for (const x of [...m.recommend, ...m.update]) assert.ok(Number.isFinite(x) && x > 0, `a measured latency: ${x}`);
      summary[mode] = {
        backend: await page.locator('#backend').getAttribute('data-backend'),
        clicks: m.recommend.length,
        recommendMedianMs: median(m.recommend),
        clickToUpdatedMedianMs: median(m.update),
        recommendMs: m.recommend, clickToUpdatedMs: m.update,
      };
      const x = summary[mode];
      console.log(`# ${x.backend} (${mode}): recommend() median ${x.recommendMedianMs.toFixed(2)} ms, click → updated lists median ${x.clickToUpdatedMedianMs.toFixed(1)} ms over ${x.clicks} product clicks`);
      // a loose bound against regressions (this 2-core machine is shared with compilers)
      assert.ok(x.recommendMedianMs < 100, `recommend() median ${x.recommendMedianMs} ms`);
    }
    writeFileSync(path.join(artifacts, 'latency.json'), JSON.stringify(summary, null, 2));
    assert.deepEqual(inWorker.errors, []);
  } finally {
    await inWorker.context.close();
  }
});
