// Accessibility and small screens: every form control has a label, text meets WCAG AA contrast
// (4.5:1) against the background it is drawn on, the shop works from the keyboard alone, and at
// phone width nothing overflows sideways. Saves screenshots (desktop and phone) as artifacts,
// outside git ($HEARTH_CACHE/www-artifacts by default).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { serve, launch, open, recs, artifacts, unlabelled, lowContrast, KITCHEN } from './helpers.mjs';

let server, browser;

before(async () => {
  server = await serve();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function viewKitchen(page, n = 3) {
  await page.selectOption('#category', KITCHEN);
  for (let i = 0; i < n; i++) {
    await page.locator('#catalog li.card a.card-link').nth(i).click();
    await page.locator('#similar li.card').first().waitFor();
    await page.goBack();
    await page.locator('#catalog li.card').first().waitFor();
  }
}

test('every form control has an accessible name and text contrast is at least 4.5:1', async () => {
  const { context, page } = await open(browser, server.base);
  try {
    await viewKitchen(page, 1);
    assert.deepEqual(await unlabelled(page), []);
    const low = await lowContrast(page);
    assert.deepEqual(low, [], 'text below 4.5:1');
  } finally {
    await context.close();
  }
});

test('keyboard only: skip link, a product opened with Enter, focus moves to its heading, added to the cart with Space', async () => {
  const { context, page } = await open(browser, server.base);
  try {
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
    // tab to the first recommendation card
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => document.activeElement.matches('#recs a.card-link'));
    }
    assert.ok(found, 'a recommendation card is reachable with Tab');
    const id = await page.evaluate(() => document.activeElement.closest('li').dataset.id);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.equal(outline, 'solid', 'the focused card shows a focus ring');
    await page.keyboard.press('Enter');
    await page.locator(`article.product[data-id="${id}"]`).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1', 'focus moves to the product heading');
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement.id === 'add-to-cart')) break;
    }
    assert.equal(await page.evaluate(() => document.activeElement.id), 'add-to-cart');
    await page.keyboard.press('Space');
    await page.locator('#cart-count', { hasText: '1' }).waitFor();
    assert.equal(await page.locator('#event-count').getAttribute('data-count'), '2');
  } finally {
    await context.close();
  }
});

test('screenshots: desktop and phone; at phone width nothing scrolls sideways', async () => {
  const desktop = await open(browser, server.base, { viewport: { width: 1200, height: 800 } });
  try {
    await viewKitchen(desktop.page);
    await desktop.page.evaluate(() => window.scrollTo(0, 0));
    const file = path.join(artifacts, 'shop-desktop.png');
    await desktop.page.screenshot({ path: file });
    assert.ok(statSync(file).size > 20000);
    await desktop.page.locator('#catalog li.card a.card-link').nth(3).click();
    await desktop.page.locator('#similar li.card').first().waitFor();
    await desktop.page.screenshot({ path: path.join(artifacts, 'shop-desktop-product.png'), fullPage: true });
  } finally {
    await desktop.context.close();
  }
  const phone = await open(browser, server.base, { viewport: { width: 390, height: 844 } });
  try {
    await viewKitchen(phone.page);
    const r = await recs(phone.page);
    assert.equal(r.mode, 'personal');
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    // the first recommendation card fits the screen
    const box = await phone.page.locator('#recs li.card').first().boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `card at ${box.x}+${box.width}`);
    await phone.page.evaluate(() => window.scrollTo(0, 0));
    await phone.page.screenshot({ path: path.join(artifacts, 'shop-phone.png') });
    await phone.page.screenshot({ path: path.join(artifacts, 'shop-phone-full.png'), fullPage: true });
    await phone.page.locator('#catalog li.card a.card-link').first().click();
    await phone.page.locator('#similar li.card').first().waitFor();
    const overflow2 = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow2 <= 0, `the product page is ${overflow2}px wider than the phone`);
    await phone.page.screenshot({ path: path.join(artifacts, 'shop-phone-product.png') });
  } finally {
    await phone.context.close();
  }
  console.log(`# screenshots in ${artifacts}`);
});
