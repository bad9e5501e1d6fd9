// The shop's controls against the bundle's own data: search and category filter over the whole
// catalog; the in-stock and price filters and the diversity slider on the recommendations; the
// cart and a (demo) order recorded as purchases; the privacy panel's export as a JSON download.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { serve, launch, open, recs, recsChangedFrom, readBundle, KITCHEN } from './helpers.mjs';

const bundle = readBundle();
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

const gridIds = () => page.locator('#catalog li.card').evaluateAll((els) => els.map((e) => e.dataset.id));
const ids = async () => (await recs(page)).items.map((r) => r.id);

test('search and category filter the whole catalog', async () => {
  await page.locator('#q').fill('lunch bag');
  await page.waitForFunction(() => /matching “lunch bag”/.test(document.querySelector('#match-count').textContent));
  const want = bundle.items.filter((it) => it.name?.toLowerCase().includes('lunch bag'));
  assert.ok(want.length > 5);
  assert.match(await page.locator('#match-count').textContent(), new RegExp(`^${want.length} products`));
  const shown = await gridIds();
  assert.equal(shown.length, Math.min(48, want.length));
  for (const id of shown) assert.match(bundle.byId.get(id).name.toLowerCase(), /lunch bag/);
  await page.locator('#q').fill('');
  await page.selectOption('#category', KITCHEN);
  const kitchen = bundle.items.filter((it) => it.category === KITCHEN);
  await page.waitForFunction((n) => document.querySelector('#match-count').textContent.startsWith(`${n} products`), kitchen.length);
  for (const id of await gridIds()) assert.equal(bundle.byId.get(id).category, KITCHEN);
  // "Show more" pages through the matches
  await page.locator('#more').click();
  assert.equal((await gridIds()).length, 96);
});

test('in-stock and price filters hold for every recommendation; diversity changes the list', async () => {
  // a personal profile first: three kitchen views
  for (let i = 0; i < 3; i++) {
    await page.locator('#catalog li.card a.card-link').nth(i).click();
    await page.locator('#similar li.card').first().waitFor();
    await page.goBack();
    await page.locator('#catalog li.card').first().waitFor();
  }
  assert.equal((await recs(page)).mode, 'personal');
  const base = await ids();
  const withSoldOut = base.filter((id) => bundle.byId.get(id).inStock === false);

  await page.locator('#in-stock').check();
  if (withSoldOut.length) await recsChangedFrom(page, base);
  else await page.waitForTimeout(200);
  let r = await recs(page);
  assert.equal(r.items.length, 10);
  for (const x of r.items) assert.equal(bundle.byId.get(x.id).inStock, true, `${x.id} is sold out`);

  const before = await ids();
  await page.locator('#price-min').fill('2');
  await page.locator('#price-max').fill('5');
  await page.waitForFunction(() => [...document.querySelectorAll('#recs li.card')].every((li) => Number(li.dataset.price) >= 2 && Number(li.dataset.price) <= 5));
  r = await recs(page);
  assert.equal(r.items.length, 10);
  for (const x of r.items) {
    const it = bundle.byId.get(x.id);
    assert.ok(it.price >= 2 && it.price <= 5, `${x.id} costs ${it.price}`);
    assert.equal(it.inStock, true);
  }
  assert.notDeepEqual(await ids(), before);

  const narrow = await recs(page);
  await page.locator('#diversity').fill('1');
  await recsChangedFrom(page, narrow.items.map((x) => x.id));
  const wide = await recs(page);
  const cats = (l) => new Set(l.items.map((x) => x.category)).size;
  assert.ok(cats(wide) >= cats(narrow), `diversity 1 spans ${cats(wide)} categories, 0 spans ${cats(narrow)}`);
  assert.equal(await page.locator('#diversity-out').textContent(), '1.0');
  for (const x of wide.items) assert.equal(bundle.byId.get(x.id).inStock, true, 'filters still hold with diversity');

  await page.locator('#diversity').fill('0');
  await page.locator('#in-stock').uncheck();
  await page.locator('#price-min').fill('');
  await page.locator('#price-max').fill('');
  await page.waitForFunction((b) => [...document.querySelectorAll('#recs li.card')].map((li) => li.dataset.id).join() === b.join(), base);
});

test('the cart: add, list with total, order recorded as purchases on the device', async () => {
  await page.selectOption('#category', KITCHEN);
  const picked = [];
  for (const i of [5, 6]) {
    await page.locator('#catalog li.card a.card-link').nth(i).click();
    const id = await page.locator('article.product').getAttribute('data-id');
    if (bundle.byId.get(id).inStock === false) {
      assert.ok(await page.locator('#add-to-cart').isDisabled(), 'a sold-out item cannot be added');
    } else {
      await page.locator('#add-to-cart').click();
      await page.locator('#add-to-cart', { hasText: 'In cart (1)' }).waitFor();
      picked.push(id);
    }
    await page.goBack();
    await page.locator('#catalog li.card').first().waitFor();
  }
  assert.ok(picked.length >= 1);
  assert.equal(await page.locator('#cart-count').textContent(), String(picked.length));
  await page.locator('#cart-link').click();
  await page.locator('#cart-lines').waitFor();
  const lines = await page.locator('#cart-lines li').evaluateAll((els) => els.map((e) => e.dataset.id));
  assert.deepEqual([...lines].sort(), [...picked].sort());
  const total = picked.reduce((a, id) => a + bundle.byId.get(id).price, 0);
  assert.equal(await page.locator('#view .big-price').textContent(), `Total £${total.toFixed(2)}`);
  const eventsBefore = Number(await page.locator('#event-count').getAttribute('data-count'));
  await page.locator('#checkout').click();
  await page.locator('#view h1', { hasText: 'Thank you!' }).waitFor();
  await page.waitForFunction((n) => Number(document.querySelector('#event-count').dataset.count) === n, eventsBefore + picked.length);
  assert.equal(await page.locator('#cart-count').textContent(), '0');

  // export: the visitor's data as a JSON file, every event with its kind and time
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export').click()]);
  assert.equal(download.suggestedFilename(), 'hearth-shop-my-data.json');
  const data = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(data.format, 'hearth-ml-profile');
  assert.equal(data.events.length, eventsBefore + picked.length);
  assert.deepEqual(data.events.filter((e) => e.event === 'purchase').map((e) => e.item).sort(), [...picked].sort());
  assert.deepEqual(data.events.filter((e) => e.event === 'cart').map((e) => e.item), picked);
  assert.equal(data.events.filter((e) => e.event === 'view').length, 5);
  for (const e of data.events) assert.ok(Number.isFinite(e.ts));
  assert.match(await page.locator('#privacy-status').textContent(), new RegExp(`^Exported ${data.events.length} events`));
  assert.equal(await page.locator('#request-count').getAttribute('data-count'), '0');
  assert.deepEqual(errors, []);
});
