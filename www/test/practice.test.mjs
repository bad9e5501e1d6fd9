// The practice app (practice.html) end to end in Chromium, one learner's story in one browser
// profile, asserted against the learning bundle's own parameters (read in Node from
// dist/practice.hearth) and an independent grid posterior over them (helpers.mjs,
// referenceLearner): a new learner is offered questions at the target success; a run of right
// answers in one topic raises that topic's mastery and moves the offered questions up in
// difficulty, a run of wrong answers moves them down; the target control moves the predicted
// success of the offers; the placement test narrows the ability estimate; the review queue has
// due dates; nothing reaches the network after load; a reload keeps the learner, erase forgets
// them. The answer → updated page latency is measured by the page, printed and saved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { serve, launch, ready, readTracerBundle, referenceLearner, openPractice, artifacts } from './helpers.mjs';
import { exercise } from '../src/exercises.js';

const bundle = readTracerBundle();
const TOPIC = 'Linear Algebra';
let server, browser, context, page, errors;
const answers = []; // what this test answered, in order: { id, correct }
const latencies = [];

before(async () => {
  server = await serve();
  browser = await launch();
  ({ context, page, errors } = await openPractice(browser, server.base));
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});

const count = (sel) => page.locator(sel).getAttribute('data-count').then(Number);
const shown = () => page.locator('#question').evaluate((e) => ({ ...e.dataset, p: Number(e.dataset.p), level: Number(e.dataset.level), variant: Number(e.dataset.variant) }));
const offered = () => page.locator('#candidates li').evaluateAll((els) => els.map((e) => ({ id: e.dataset.id, p: Number(e.dataset.p), information: Number(e.dataset.information) })));
const mastery = () => page.locator('#mastery li').evaluateAll((els) => Object.fromEntries(els.map((e) => [e.dataset.topic, { mean: Number(e.dataset.mean), sd: Number(e.dataset.sd), answered: Number(e.dataset.answered) }])));
const ability = () => page.locator('#ability').evaluate((e) => ({ mean: Number(e.dataset.mean), sd: Number(e.dataset.sd), answered: Number(e.dataset.answered) }));
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const difficulty = (list) => mean(list.map((c) => bundle.byId.get(c.id).difficulty));

/** Answers the shown question right or wrong through the page (typing the exercise's answer); returns the page's latency. */
async function answer(correct, p = page) {
  const q = await p.locator('#question').evaluate((e) => ({ ...e.dataset }));
  const ex = exercise({ id: q.id, subtopic: q.skill, level: Number(q.level) }, Number(q.variant));
  assert.ok(ex, `question ${q.id} (${q.skill}) has a generated exercise`);
  assert.equal(await p.locator('#prompt').textContent(), ex.prompt, 'the page shows the exercise the test regenerates');
  const before = Number(await p.locator('#answer-count').getAttribute('data-count'));
  await p.locator('#update-latency').evaluate((e) => { e.dataset.ms = ''; });
  await p.locator('#answer').fill(String(correct ? ex.answer : ex.answer + 1));
  await p.locator('#answer').press('Enter');
  await p.waitForFunction((n) => document.querySelector('#update-latency').dataset.ms !== ''
    && Number(document.querySelector('#answer-count').dataset.count) === n, before + 1);
  assert.equal(await p.locator('#feedback').getAttribute('data-correct'), String(correct));
  assert.equal(await p.locator('#feedback').getAttribute('data-id'), q.id);
  if (p === page) answers.push({ id: q.id, correct });
  const ms = Number(await p.locator('#update-latency').getAttribute('data-ms'));
  if (p === page) latencies.push(ms);
  // never the question just answered
  assert.notEqual((await p.locator('#question').getAttribute('data-id')), q.id, 'the question just answered is not offered again at once');
  return ms;
}

/**
 * The offers the engine's practice policy makes, recomputed from the reference posterior: every
 * topic's questions ranked by |P(correct) − target| (ties to the lower bank index), then every
 * topic's best first (closest first), then every topic's second best, …; the page leaves out
 * the last four questions answered.
 */
function expectedNext(ref, target, topic, k = 5) {
  const exclude = new Set(answers.slice(-4).map((a) => a.id));
  const per = new Map();
  bundle.questions.forEach((q, i) => {
    if (exclude.has(q.id) || (topic && q.topic !== topic)) return;
    if (!per.has(q.topic)) per.set(q.topic, []);
    per.get(q.topic).push({ d: Math.abs(ref.p(q) - target), i, id: q.id });
  });
  const picked = [...per.values()].flatMap((l) => l.sort((a, b) => a.d - b.d || a.i - b.i).slice(0, k).map((e, rank) => ({ ...e, rank })));
  picked.sort((a, b) => a.rank - b.rank || a.d - b.d || a.i - b.i);
  return picked.slice(0, k).map((e) => e.id);
}

/** The page's offers agree with the reference posterior over the bundle's parameters. */
function checkPredictions(list, ref, what) {
  for (const c of list) {
    const q = bundle.byId.get(c.id);
    assert.ok(q, `${c.id} is a question of the bundle`);
    if (q.fitted) assert.ok(Math.abs(c.p - ref.p(q)) < 1e-6, `${what}: P(correct) of ${c.id} is ${c.p}, the reference ${ref.p(q)}`);
    else assert.ok(c.p > 0 && c.p < 1);
  }
}

test('a new learner is offered level-appropriate questions at the target success, as the bundle\'s parameters predict', async () => {
  assert.equal(await count('#answer-count'), 0);
  const a = await ability();
  const ref = referenceLearner(bundle, []);
  assert.ok(Math.abs(a.mean - ref.mean) < 1e-6 && Math.abs(a.sd - ref.sd) < 1e-6, `prior ${a.mean} ± ${a.sd}, reference ${ref.mean} ± ${ref.sd}`);
  const list = await offered();
  assert.equal(list.length, 5);
  checkPredictions(list, ref, 'new learner');
  assert.deepEqual(list.map((c) => c.id), expectedNext(ref, 0.7), 'the questions the policy picks from the bundle\'s parameters');
  for (const c of list) assert.ok(Math.abs(c.p - 0.7) < 0.1, `offered P(correct) ${c.p} is near the 0.7 target`);
  assert.equal(new Set(list.map((c) => bundle.byId.get(c.id).topic)).size, 5, 'spread over five topics');
  const s = await shown();
  assert.equal(s.id, list[0].id);
  assert.equal(s.kind, 'exercise');
  // 0.7 > 0.5: a new learner (ability 0) gets questions easier than the bank's typical one
  const all = bundle.questions.map((q) => q.difficulty).sort((x, y) => x - y);
  const median = all[all.length >> 1];
  assert.ok(difficulty(list) < median, `offered difficulty ${difficulty(list)} is below the bank median ${median}`);
  const basic = list.filter((c) => bundle.byId.get(c.id).level === 0).length;
  console.log(`# new learner: offered P(correct) ${list.map((c) => c.p.toFixed(3)).join(', ')}; mean difficulty ${difficulty(list).toFixed(2)} (bank median ${median.toFixed(2)}); ${basic}/5 Basic`);
  assert.match(await page.locator('#why').textContent(), /P\(correct\) 0\.\d\d — practises /);
  // the topics and attribution come from the bundle
  const topics = await page.locator('#mastery li').evaluateAll((els) => els.map((e) => e.dataset.topic));
  assert.deepEqual(topics, bundle.manifest.topics);
  assert.equal(await page.locator('#attribution').getAttribute('data-from'), 'bundle');
  const attribution = await page.locator('#attribution').innerText();
  for (const line of bundle.manifest.attribution) assert.ok(attribution.includes(line), `attribution line missing: ${line}`);
  assert.match(attribution, /Azevedo/);
  assert.match((await page.locator('#exercise-note').textContent()).replace(/\s+/g, ' '), /generates a real exercise on its subtopic/);
  assert.deepEqual(errors, []);
});

test('right answers in one topic raise its mastery and move the next questions up in difficulty; wrong answers move them down', async () => {
  await page.selectOption('#topic', TOPIC);
  await page.waitForFunction((t) => document.querySelector('#candidates li') && [...document.querySelectorAll('#candidates li')].length > 0, TOPIC);
  await page.waitForTimeout(100);
  const inTopic = (list) => list.every((c) => bundle.byId.get(c.id).topic === TOPIC);
  const start = { list: await offered(), m: (await mastery())[TOPIC] };
  assert.ok(inTopic(start.list), 'the topic filter holds');
  for (let i = 0; i < 6; i++) await answer(true);
  const up = { list: await offered(), m: (await mastery())[TOPIC] };
  assert.ok(inTopic(up.list));
  checkPredictions(up.list, referenceLearner(bundle, answers), 'after 6 right');
  assert.deepEqual(up.list.map((c) => c.id), expectedNext(referenceLearner(bundle, answers), 0.7, TOPIC));
  assert.ok(up.m.mean > start.m.mean + 0.3, `${TOPIC} mastery ${start.m.mean} → ${up.m.mean}`);
  assert.ok(up.m.sd < start.m.sd, `${TOPIC} uncertainty ${start.m.sd} → ${up.m.sd}`);
  assert.equal(up.m.answered, 6);
  const ref = referenceLearner(bundle, answers, (q) => q.topic === TOPIC);
  assert.ok(Math.abs(up.m.mean - ref.mean) < 1e-6, `topic mean ${up.m.mean}, reference ${ref.mean}`);
  assert.ok(difficulty(up.list) > difficulty(start.list) + 0.3, `offered difficulty ${difficulty(start.list)} → ${difficulty(up.list)}`);
  for (let i = 0; i < 8; i++) await answer(false);
  const down = { list: await offered(), m: (await mastery())[TOPIC] };
  assert.ok(inTopic(down.list));
  checkPredictions(down.list, referenceLearner(bundle, answers), 'after 8 wrong');
  assert.deepEqual(down.list.map((c) => c.id), expectedNext(referenceLearner(bundle, answers), 0.7, TOPIC));
  assert.ok(down.m.mean < up.m.mean - 0.3, `${TOPIC} mastery ${up.m.mean} → ${down.m.mean}`);
  assert.ok(difficulty(down.list) < difficulty(up.list) - 0.3, `offered difficulty ${difficulty(up.list)} → ${difficulty(down.list)}`);
  console.log(`# ${TOPIC}: mastery ${start.m.mean.toFixed(2)} ± ${start.m.sd.toFixed(2)} → ${up.m.mean.toFixed(2)} ± ${up.m.sd.toFixed(2)} after 6 right → ${down.m.mean.toFixed(2)} ± ${down.m.sd.toFixed(2)} after 8 wrong; offered difficulty ${difficulty(start.list).toFixed(2)} → ${difficulty(up.list).toFixed(2)} → ${difficulty(down.list).toFixed(2)}`);
  // other topics' own estimates did not move
  const other = (await mastery())['Statistics'];
  assert.equal(other.answered, 0);
  await page.selectOption('#topic', '');
});

test('the target-success control moves the predicted success of the questions offered', async () => {
  // MathE's fitted difficulties span only about −1.4 … 1.7: right answers first (up to 12, or
  // until some question has P ≥ 0.85), so that 0.9 is nearer reach
  for (let i = 0; i < 12 && Math.max(...bundle.questions.map((q) => referenceLearner(bundle, answers).p(q))) < 0.85; i++) await answer(true);
  const at = async (t) => {
    const before = (await offered()).map((c) => c.id).join();
    await page.locator('#target').fill(String(t));
    await page.waitForFunction((b) => [...document.querySelectorAll('#candidates li')].map((e) => e.dataset.id).join() !== b, before).catch(() => {});
    assert.equal(await page.locator('#target-out').textContent(), `${Math.round(t * 100)}%`);
    return offered();
  };
  const ref = referenceLearner(bundle, answers);
  const low = await at(0.5);
  const high = await at(0.9);
  checkPredictions(low, ref, 'target 0.5');
  checkPredictions(high, ref, 'target 0.9');
  assert.deepEqual(low.map((c) => c.id), expectedNext(ref, 0.5));
  assert.deepEqual(high.map((c) => c.id), expectedNext(ref, 0.9));
  const [pl, ph] = [mean(low.map((c) => c.p)), mean(high.map((c) => c.p))];
  console.log(`# ability ${ref.mean.toFixed(2)} ± ${ref.sd.toFixed(2)}: target 0.5 → offered P(correct) mean ${pl.toFixed(3)}; target 0.9 → ${ph.toFixed(3)}`);
  assert.ok(Math.abs(pl - 0.5) < 0.1, `${pl} near 0.5`);
  assert.ok(ph > pl + 0.25, `${ph} well above ${pl}`);
  assert.ok(difficulty(high) < difficulty(low), 'a higher target offers easier questions');
  await at(0.7);
});

test('placement test: the most informative questions first, the ability estimate narrowing with every answer', async () => {
  await page.locator('input[name=mode][value=assess]').check();
  await page.waitForFunction(() => document.querySelector('#question').dataset.mode === 'assess');
  assert.ok(await page.locator('#target').isDisabled(), 'the target does not apply to the placement test');
  const sds = [(await ability()).sd];
  for (let i = 0; i < 6; i++) {
    const ref = referenceLearner(bundle, answers);
    const s = await shown();
    const q = bundle.byId.get(s.id);
    // no other question tells more at the current estimate (but the last few answered, which
    // the page leaves out)
    const recent = new Set(answers.slice(-4).map((a) => a.id));
    const best = Math.max(...bundle.questions.filter((x) => x.fitted && !recent.has(x.id)).map((x) => ref.info(x)));
    if (q.fitted) assert.ok(ref.info(q) >= best - 1e-9, `question ${s.id} has information ${ref.info(q)}, the bank's best ${best}`);
    assert.ok(Math.abs(s.p - (q.fitted ? ref.p(q) : s.p)) < 1e-6);
    await answer(i % 2 === 0);
    sds.push((await ability()).sd);
  }
  console.log(`# placement: ability SD ${sds.map((x) => x.toFixed(3)).join(' → ')}`);
  for (let i = 1; i < sds.length; i++) assert.ok(sds[i] < sds[i - 1], `the SD narrows: ${sds.join(', ')}`);
  const hist = await page.locator('#ability-history li').count();
  assert.ok(hist >= 7, 'the history lists every answer of the placement test');
  await page.locator('input[name=mode][value=practice]').check();
  await page.waitForFunction(() => document.querySelector('#question').dataset.mode === 'practice');
});

test('the review queue lists the answered questions with their due dates, wrong answers due sooner', async () => {
  const cards = await page.locator('#reviews li[data-id]').evaluateAll((els) => els.map((e) => ({ id: e.dataset.id, due: Number(e.dataset.due), r: Number(e.dataset.r) })));
  const distinct = [...new Set(answers.map((a) => a.id))];
  assert.equal(cards.length, Math.min(12, distinct.length));
  for (let i = 1; i < cards.length; i++) assert.ok(cards[i].due >= cards[i - 1].due, 'soonest due first');
  const now = Date.now();
  const lastOf = new Map(answers.map((a) => [a.id, a.correct]));
  const right = cards.filter((c) => lastOf.get(c.id) === true), wrong = cards.filter((c) => lastOf.get(c.id) === false);
  assert.ok(right.length && wrong.length);
  for (const c of cards) {
    assert.ok(c.due > now - 60000, 'due after the answer');
    assert.ok(c.r > 0 && c.r <= 1);
  }
  assert.ok(Math.max(...wrong.map((c) => c.due)) <= Math.min(...right.map((c) => c.due)), 'a forgotten question comes back before a known one');
  assert.match(await page.locator('#reviews li[data-id]').first().innerText(), /(due now|in \d+ (min|h|days?)) · \d+ \w+ \d{4} · recall now \d+%/);
});

test('zero network requests after the model loaded: the server saw none, the page counted none', async () => {
  const logAt = server.log.length;
  await answer(true);
  await page.selectOption('#topic', 'Statistics');
  await answer(false);
  await page.selectOption('#topic', '');
  await page.waitForTimeout(300);
  assert.deepEqual(server.log.slice(logAt), [], 'the server saw no request');
  assert.equal(await count('#request-count'), 0, 'the privacy panel counts no request');
  assert.deepEqual(errors, []);
});

test('export: every answer as JSON', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export').click()]);
  assert.equal(download.suggestedFilename(), 'hearth-practice-my-data.json');
  const text = readFileSync(await download.path(), 'utf8');
  const data = JSON.parse(text);
  const list = data.answers ?? data.events;
  assert.equal(list.length, answers.length);
  assert.deepEqual(list.map((a) => [String(a.question ?? a.item), Boolean(a.correct)]), answers.map((a) => [a.id, a.correct]));
  assert.match(await page.locator('#privacy-status').textContent(), new RegExp(`^Exported ${answers.length} answers`));
});

test('a reload keeps the learner (IndexedDB) without downloading the bundle again', async () => {
  const before = { a: await ability(), m: await mastery(), n: await count('#answer-count') };
  await page.reload();
  await ready(page);
  assert.equal(await count('#answer-count'), before.n);
  const a = await ability();
  assert.ok(Math.abs(a.mean - before.a.mean) < 1e-9 && Math.abs(a.sd - before.a.sd) < 1e-9, 'the same ability estimate');
  assert.deepEqual(await mastery(), before.m);
  assert.equal(await page.locator('#cache-status').getAttribute('data-cache'), 'cache');
  assert.equal(server.log.filter((p) => p === '/practice.hearth').length, 1, 'the bundle was downloaded once');
  assert.ok((await page.locator('#reviews li[data-id]').count()) > 0, 'the review queue is back');
});

test('erase forgets the learner: the database is deleted, the estimates are a new learner\'s, also after a reload', async () => {
  const dbsBefore = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  await page.locator('#erase').click();
  await page.waitForFunction(() => Number(document.querySelector('#answer-count').dataset.count) === 0);
  const prior = referenceLearner(bundle, []);
  const a = await ability();
  assert.ok(Math.abs(a.mean - prior.mean) < 1e-6 && Math.abs(a.sd - prior.sd) < 1e-6);
  assert.equal(await page.locator('#reviews li[data-id]').count(), 0);
  const dbsAfter = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  const gone = dbsBefore.filter((d) => !dbsAfter.includes(d));
  assert.ok(gone.length >= 1, `a database was deleted: before ${dbsBefore}, after ${dbsAfter}`);
  await page.reload();
  await ready(page);
  assert.equal(await count('#answer-count'), 0);
  assert.ok(Math.abs((await ability()).mean - prior.mean) < 1e-6);
  checkPredictions(await offered(), prior, 'after erase');
  assert.deepEqual(errors, []);
});

test('answer → updated page latency, measured by the page (median over the answers above)', async () => {
  assert.ok(latencies.length >= 10, `${latencies.length} answers measured`);
  for (const x of latencies) assert.ok(Number.isFinite(x) && x > 0);
  const sorted = [...latencies].sort((x, y) => x - y);
  const median = sorted[sorted.length >> 1];
  console.log(`# answer → mastery, next question and review queue updated: median ${median.toFixed(1)} ms over ${latencies.length} answers (min ${sorted[0].toFixed(1)}, max ${sorted.at(-1).toFixed(1)})`);
  writeFileSync(path.join(artifacts, 'practice-latency.json'), JSON.stringify({ answers: latencies.length, answerToUpdatedMedianMs: median, answerToUpdatedMs: latencies }, null, 2));
  assert.ok(median < 200, `median ${median} ms`);
});

test('the shop and the practice app link to each other', async () => {
  await page.locator('#to-shop').click();
  await page.waitForURL(/\/$/);
  await ready(page);
  await page.locator('#to-practice').click();
  await page.waitForURL(/practice\.html$/);
  await ready(page);
  assert.equal(await page.locator('#question').getAttribute('data-kind'), 'exercise');
});
