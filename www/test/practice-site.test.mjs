// The practice app as a site: every control labelled and text contrast at least 4.5:1; the whole
// answer path from the keyboard alone; nothing scrolls sideways at phone width; screenshots at
// desktop and phone width into the artifacts (outside git); offline after the first visit (the
// service worker serves practice.html and its code, hearth-ml's Cache API the bundle). Its
// strict-CSP test is in csp.test.mjs, beside the shop's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { serve, launch, ready, openPractice, artifacts, unlabelled, lowContrast, solution, answerSome } from './helpers.mjs';

let server, browser;

before(async () => {
  server = await serve();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('every form control has an accessible name and text contrast is at least 4.5:1 (practice and placement)', async () => {
  const { context, page, errors } = await openPractice(browser, server.base);
  try {
    await answerSome(page, 3);
    assert.deepEqual(await unlabelled(page), []);
    assert.deepEqual(await lowContrast(page), [], 'text below 4.5:1');
    await page.locator('input[name=mode][value=assess]').check();
    await page.waitForFunction(() => document.querySelector('#question').dataset.mode === 'assess');
    await answerSome(page, 1);
    assert.deepEqual(await lowContrast(page), [], 'text below 4.5:1 in the placement test');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('keyboard only: skip link, the answer typed and sent with Enter, focus stays on the answer field for the next question', async () => {
  const { context, page } = await openPractice(browser, server.base);
  try {
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
    let found = false;
    for (let i = 0; i < 30 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => document.activeElement.id === 'answer');
    }
    assert.ok(found, 'the answer field is reachable with Tab');
    assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'solid', 'focus ring');
    for (let i = 0; i < 3; i++) {
      const id = await page.locator('#question').getAttribute('data-id');
      await page.keyboard.type(await solution(page));
      await page.keyboard.press('Enter');
      await page.waitForFunction((q) => document.querySelector('#feedback').dataset.id === q, id);
      assert.equal(await page.locator('#feedback').getAttribute('data-correct'), 'true');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'answer', 'focus is on the next question\'s answer field');
      assert.equal(await page.locator('#answer').inputValue(), '');
    }
    // the target control answers the arrow keys
    await page.locator('#target').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#target-out').textContent(), '75%');
    assert.equal(await page.locator('#answer-count').getAttribute('data-count'), '3');
  } finally {
    await context.close();
  }
});

test('screenshots: desktop and phone; at phone width nothing scrolls sideways', async () => {
  const desktop = await openPractice(browser, server.base, { viewport: { width: 1280, height: 900 } });
  try {
    await answerSome(desktop.page, 6);
    // from the controls down: the question, why it was chosen, the mastery bars
    await desktop.page.locator('#practice-controls').evaluate((e) => e.scrollIntoView());
    const file = path.join(artifacts, 'practice-desktop.png');
    await desktop.page.screenshot({ path: file });
    assert.ok(statSync(file).size > 20000);
    await desktop.page.screenshot({ path: path.join(artifacts, 'practice-desktop-full.png'), fullPage: true });
  } finally {
    await desktop.context.close();
  }
  const phone = await openPractice(browser, server.base, { viewport: { width: 390, height: 844 } });
  try {
    await answerSome(phone.page, 4);
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    for (const sel of ['#question', '#mastery li', '#answer', '#check']) {
      const box = await phone.page.locator(sel).first().boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= 390, `${sel} at ${box.x}+${box.width}`);
    }
    await phone.page.locator('#question-h').scrollIntoViewIfNeeded();
    await phone.page.screenshot({ path: path.join(artifacts, 'practice-phone.png') });
    await phone.page.screenshot({ path: path.join(artifacts, 'practice-phone-full.png'), fullPage: true });
  } finally {
    await phone.context.close();
  }
  console.log(`# screenshots in ${artifacts}`);
});

test('offline after the first visit: the practice app opens from the service worker and keeps adapting', async () => {
  const { context, page, errors } = await openPractice(browser, server.base);
  try {
    assert.equal(await page.locator('body').getAttribute('data-sw'), 'ready');
    await answerSome(page, 2);
    await context.setOffline(true);
    const logAt = server.log.length;
    await page.reload();
    await ready(page);
    assert.equal(await page.evaluate(() => navigator.onLine), false, 'the browser is offline');
    assert.equal(await page.locator('#cache-status').getAttribute('data-cache'), 'cache');
    assert.equal(await page.locator('#answer-count').getAttribute('data-count'), '2', 'the learner is still there');
    const sd = Number(await page.locator('#ability').getAttribute('data-sd'));
    await answerSome(page, 2);
    assert.ok(Number(await page.locator('#ability').getAttribute('data-sd')) < sd, 'answers offline still update the estimate');
    assert.deepEqual(server.log.slice(logAt), [], 'nothing reached the server while offline');
    assert.equal(await page.locator('#request-count').getAttribute('data-count'), '0');
    assert.deepEqual(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e)), []);
  } finally {
    await context.setOffline(false);
    await context.close();
  }
});
