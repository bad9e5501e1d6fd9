// The knowledge tracer in headless Chromium: in the worker (default) and inline the same
// numbers; learners in IndexedDB survive a reload and clear() deletes the database; no request
// at all while answers are observed and questions chosen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch, freshPage as openFreshPage } from './helpers/server.mjs';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(pkg, '..');
const bundle = readFileSync(path.join(root, 'tests/fixtures/education/tracer_sim.hearth'));
const want = JSON.parse(readFileSync(path.join(root, 'tests/fixtures/education/tracer_sim_expected.json'), 'utf8'));

let server, browser;
before(async () => {
  server = await serve({ '/pkg': pkg }, { '/sim.hearth': bundle });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('tracer: worker and inline agree with the native build; IndexedDB learner across reloads; clear; no requests', async () => {
  const { context, page } = await openFreshPage(browser, server.base);
  const requests = [];
  context.on('request', (q) => requests.push(q.url()));
  const setup = () => page.evaluate(async () => {
    const { Hearth } = await import('/pkg/dist/index.js');
    window.h = await Hearth.init();
    window.tracer = await h.loadTracer('/sim.hearth');
    window.inline = await (await Hearth.init({ worker: false })).loadTracer('/sim.hearth', { name: 'inline-copy' });
  });
  await setup();
  requests.length = 0;
  const logBefore = server.log.length;
  const r1 = await page.evaluate(async (script) => {
    const learner = await tracer.learner();
    const observed = [];
    for (const a of script.slice(0, 20)) observed.push(await learner.observe(a));
    const li = await inline.learner();
    for (const a of script.slice(0, 20)) await li.observe(a);
    return {
      worker: h.worker, storage: learner.storage, observed, mastery: await learner.mastery(), inlineMastery: await li.mastery(),
      next: await learner.next({ k: 5 }), inlineNext: await li.next({ k: 5 }),
    };
  }, want.script);
  assert.deepEqual(requests, [], 'no request while observing and choosing');
  assert.equal(server.log.length, logBefore);
  assert.equal(r1.worker, true);
  assert.equal(r1.storage, 'indexeddb');
  // the first 20 answers of the native session, answer by answer
  r1.observed.forEach((o, i) => {
    assert.ok(Math.abs(o.ability.mean - want.observed[i].ability.mean) < 1e-12, `answer ${i}`);
    assert.ok(Math.abs(o.pCorrectBefore - want.observed[i].pCorrectBefore) < 1e-12, `answer ${i}`);
  });
  assert.deepEqual(r1.inlineMastery, r1.mastery, 'inline and worker give the same state');
  assert.deepEqual(r1.inlineNext, r1.next);

  await page.reload();
  await setup();
  const r2 = await page.evaluate(async () => {
    const learner = await tracer.learner();
    const name = `hearth-ml-learner:${tracer.name}:default`;
    const has = async () => (await indexedDB.databases()).map((d) => d.name).includes(name);
    const answered = learner.answered;
    const mastery = await learner.mastery();
    const before = await has();
    await learner.clear();
    return { answered, mastery, before, after: await has(), cleared: (await learner.mastery()).ability.answered };
  });
  assert.equal(r2.answered, 20, 'the learner survived the reload');
  assert.deepEqual(r2.mastery, r1.mastery);
  assert.equal(r2.before, true);
  assert.equal(r2.after, false, 'clear() deleted the database');
  assert.equal(r2.cleared, 0);
  await page.reload();
  await setup();
  assert.equal(await page.evaluate(async () => (await tracer.learner()).answered), 0, 'nothing came back after clear()');
  await context.close();
});

test('tracer: live sync: two pages with one learner open apply each other\'s answers without a reload, none lost or doubled', async () => {
  const context = await browser.newContext();
  const pages = [await context.newPage(), await context.newPage()];
  const open = (p) => p.evaluate(async () => {
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init();
    window.learner = await (await h.loadTracer('/sim.hearth', { name: 'live-tabs' })).learner();
    window.until = async (n) => {
      for (let t = 0; learner.answered !== n && t < 500; t++) await new Promise((r) => setTimeout(r, 10));
      return learner.answered;
    };
  });
  for (const p of pages) await p.goto(server.base + '/');
  await open(pages[0]);
  await pages[0].evaluate(async (a) => { await learner.clear(); await learner.observe(a); }, want.script[0]);
  await open(pages[1]); // replays that answer from IndexedDB: it must not come a second time
  assert.equal(await pages[1].evaluate(() => learner.answered), 1);
  // the learner answers in one tab, then goes on in the other once it has caught up
  await pages[0].evaluate(async (xs) => { for (const x of xs) await learner.observe(x); }, want.script.slice(1, 15));
  assert.equal(await pages[1].evaluate(() => until(15)), 15);
  await pages[1].evaluate(async (xs) => { for (const x of xs) await learner.observe(x); }, want.script.slice(15));
  assert.equal(await pages[0].evaluate(() => until(30)), 30);
  const states = await Promise.all(pages.map((p) => p.evaluate(async () => {
    await new Promise((r) => setTimeout(r, 100));
    return { answered: learner.answered, mastery: await learner.mastery() };
  })));
  for (const [k, st] of states.entries()) {
    assert.equal(st.answered, 30, `page ${k}: an answer was lost or applied twice`);
    // the native session's state after its 30 answers, in order
    assert.ok(Math.abs(st.mastery.ability.mean - want.mastery.ability.mean) < 1e-12, `page ${k}: ${st.mastery.ability.mean} vs ${want.mastery.ability.mean}`);
    assert.deepEqual(st.mastery, states[0].mastery);
  }
  await pages[1].evaluate(() => learner.clear());
  assert.equal(await pages[0].evaluate(() => until(0)), 0, 'the clear reached the other page');
  await context.close();
});

test('tracer: a long IndexedDB history reopens from the saved state with exactly the full replay\'s results; a refused write rejects observe with STORAGE and leaves the learner as it was', async () => {
  const { context, page } = await openFreshPage(browser, server.base);
  const setup = `
    const { Hearth } = await import('/pkg/dist/index.js');
    const h = await Hearth.init();
    const tracer = await h.loadTracer('/sim.hearth', { name: 'idb-compact' });
    let s = 3;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const answer = (i) => ({ question: 'Q' + String(Math.floor(rnd() * 60)).padStart(3, '0'), correct: rnd() < 0.6, ts: 1.76e12 + i * 3600000 });
    const now = 1.76e12 + 2000 * 3600000;
    const report = async (l) => ({ answered: l.answered, mastery: await l.mastery(), next: await l.next({ k: 10 }), due: await l.due({ now, all: true }),
      predict: await Promise.all(tracer.questions().map((q) => l.predict(q.id))) });
    const openings = [];
    const call = h.call;
    h.call = function (op, args, ...rest) { if (op === 'openLearner') openings.push({ saved: args.saved !== undefined, answers: args.answers.length }); return call.call(this, op, args, ...rest); };
  `;
  const run = (body) => page.evaluate(new Function(`return (async () => { ${setup} ${body} })();`));
  const first = await run(`
    const l = await tracer.learner();
    await l.clear();
    for (let i = 0; i < 900; i++) await l.observe(answer(i));
    // the refused write: nothing changes
    const before = await report(l);
    const add = IDBObjectStore.prototype.add;
    IDBObjectStore.prototype.add = function () { throw new DOMException('quota exceeded (test)', 'QuotaExceededError'); };
    let err;
    try { await l.observe(answer(900)); } catch (e) { err = [e.code, e.message]; } finally { IDBObjectStore.prototype.add = add; }
    const same = JSON.stringify(await report(l)) === JSON.stringify(before);
    const stored = (await l.answers()).length;
    await new Promise((r) => setTimeout(r, 300));
    return { err, same, stored, live: await report(l) };
  `);
  assert.equal(first.err?.[0], 'STORAGE');
  assert.match(first.err[1], /QuotaExceededError/);
  assert.equal(first.same, true, 'the refused answer left no trace in the learner');
  assert.equal(first.stored, 900);
  await page.reload();
  const again = await run(`
    const t = performance.now();
    const l = await tracer.learner();
    const ms = performance.now() - t;
    const restored = await report(l);
    // without the saved state: every answer replayed
    const db = await new Promise((res, rej) => { const q = indexedDB.open('hearth-ml-learner:idb-compact:default'); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
    const saved = await new Promise((res) => { const r = db.transaction('state').objectStore('state').get('learner'); r.onsuccess = () => res(r.result); });
    await new Promise((res) => { const tx = db.transaction('state', 'readwrite'); tx.objectStore('state').delete('learner'); tx.oncomplete = res; });
    db.close();
    const full = await report(await tracer.learner());
    await l.clear();
    return { ms, restored, full, openings, upTo: saved?.upTo };
  `);
  assert.ok(again.upTo >= 800, `saved at ${again.upTo}`);
  assert.equal(again.openings[0].saved, true);
  assert.ok(again.openings[0].answers < 200, `replayed ${again.openings[0].answers} answers`);
  assert.deepEqual(again.openings[1], { saved: false, answers: 900 });
  assert.deepEqual(again.restored, again.full, 'restored + newest answers = the full replay, bit for bit');
  assert.deepEqual(again.restored, first.live, 'and = the learner that answered them');
  console.log(`# learner (IndexedDB, Chromium, worker): reopen of 900 answers from the saved state + ${again.openings[0].answers} answers ${again.ms.toFixed(1)} ms`);
  await context.close();
});
