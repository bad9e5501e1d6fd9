// The knowledge tracer through the package in Node (dist/node.js, inline engine, learners in
// memory): the scripted session of tests/fixtures/education/tracer_sim_expected.json (written by
// the native build) gives the same numbers; a second Hearth instance ("a reload") replays the
// learner from its store, clear() forgets; argument errors are TypeError / RangeError naming the
// argument, an unknown question is UNKNOWN_ITEM.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hearth, HearthError } from 'hearth-ml';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(pkg, '..');
const fixture = path.join(root, 'tests/fixtures/education/tracer_sim.hearth');
const want = JSON.parse(readFileSync(path.join(root, 'tests/fixtures/education/tracer_sim_expected.json'), 'utf8'));

function close(got, exp, tol, at = '$') {
  if (typeof exp === 'number') {
    assert.ok(Math.abs(got - exp) <= tol * Math.max(1, Math.abs(exp)), `${at}: ${got} vs ${exp}`);
  } else if (Array.isArray(exp)) {
    assert.equal(got.length, exp.length, `${at}.length`);
    exp.forEach((e, i) => close(got[i], e, tol, `${at}[${i}]`));
  } else if (exp && typeof exp === 'object') {
    assert.deepEqual(Object.keys(got).sort(), Object.keys(exp).sort(), `${at} keys`);
    for (const k of Object.keys(exp)) close(got[k], exp[k], tol, `${at}.${k}`);
  } else {
    assert.equal(got, exp, at);
  }
}

let hearth;
before(async () => {
  hearth = await Hearth.init();
});

test('loadTracer from a path: questions, attribution, the native session\'s numbers', async () => {
  const tracer = await hearth.loadTracer(fixture, { name: 'sim-node' });
  assert.equal(tracer.info.format, 'hearth.learning');
  assert.deepEqual(tracer.attribution, ['simulated answers (tests/tracer.rs)']);
  const qs = tracer.questions();
  assert.equal(qs.length, 60);
  assert.deepEqual(Object.keys(qs[0]).sort(), ['difficulty', 'discrimination', 'id', 'keywords', 'level', 'levelName', 'model', 'skill', 'topic']);
  assert.equal(tracer.question('Q000').topic, 'T0');
  assert.equal(tracer.question('zzz'), undefined);
  const learner = await tracer.learner();
  assert.equal(learner.storage, 'memory');
  assert.equal(learner.answered, 0);
  const observed = [];
  for (const a of want.script) observed.push(await learner.observe(a));
  const last = want.script.at(-1).ts;
  close({
    observed,
    mastery: await learner.mastery(),
    predict: await Promise.all(['Q000', 'Q017', 'Q030', 'Q044', 'Q059'].map((q) => learner.predict(q))),
    nextPractice: await learner.next(),
    nextAssess: await learner.next({ k: 3, mode: 'assess', topic: 'T2' }),
    due: await learner.due({ now: last + 86_400_000 }),
    dueAll: await learner.due({ now: last, all: true }),
  }, (({ script, ...rest }) => rest)(want), 1e-12);
  assert.equal(learner.answered, 30);
  const exported = JSON.parse(await learner.export());
  assert.equal(exported.format, 'hearth-ml-learner');
  assert.deepEqual(exported.answers, want.script);

  // "reload": a new instance replays the stored answers
  const again = await Hearth.init();
  const t2 = await again.loadTracer(fixture, { name: 'sim-node' });
  const l2 = await t2.learner();
  assert.equal(l2.answered, 30);
  close(await l2.mastery(), want.mastery, 1e-12);
  // another learner id of the same bundle is separate
  assert.equal((await t2.learner('sibling')).answered, 0);
  await l2.clear();
  assert.equal(l2.answered, 0);
  assert.equal((await l2.mastery()).ability.answered, 0);
  const l3 = await (await again.loadTracer(fixture, { name: 'sim-node' })).learner();
  assert.equal(l3.answered, 0, 'clear() forgot the answers');
  again.dispose();
});

test('argument errors name the argument; unknown questions are UNKNOWN_ITEM', async () => {
  const bytes = readFileSync(fixture);
  const tracer = await hearth.loadTracer(bytes, { name: 'sim-errors' });
  const l = await tracer.learner();
  const rejects = (p, cls, re) => assert.rejects(p, (e) => e instanceof cls && re.test(e.message));
  await rejects(l.observe({ question: 'nope', correct: true }), HearthError, /observe: answer.question: question 'nope'/);
  await assert.rejects(l.observe({ question: 'nope', correct: true }), { code: 'UNKNOWN_ITEM' });
  await assert.rejects(l.predict('nope'), { code: 'UNKNOWN_ITEM' });
  await assert.rejects(l.next({ exclude: ['nope'] }), { code: 'UNKNOWN_ITEM' });
  await rejects(l.observe({ question: 'Q000', correct: 'yes' }), TypeError, /answer.correct/);
  await rejects(l.observe({ question: 'Q000', correct: true, ts: 'now' }), TypeError, /answer.ts/);
  await rejects(l.observe(null), TypeError, /observe: answer/);
  await rejects(l.predict(7), TypeError, /predict: question/);
  await rejects(l.next({ k: 0 }), RangeError, /options.k/);
  await rejects(l.next({ k: '5' }), TypeError, /options.k/);
  await rejects(l.next({ targetSuccess: 1.2 }), RangeError, /options.targetSuccess/);
  await rejects(l.next({ topic: 'Geometry' }), RangeError, /options.topic 'Geometry'/);
  await rejects(l.next({ level: 'Expert' }), RangeError, /options.level 'Expert'/);
  await rejects(l.next({ level: 5 }), RangeError, /options.level 5/);
  await rejects(l.next({ mode: 'exam' }), RangeError, /options.mode/);
  await rejects(l.next({ targetsuccess: 0.5 }), TypeError, /options.targetsuccess is not an option/);
  await rejects(l.due({ now: NaN }), TypeError, /options.now/);
  await rejects(tracer.learner(''), TypeError, /learner: id/);
  assert.equal(l.answered, 0);
  // picks honour the filters
  const picks = await l.next({ k: 4, topic: 'T1', level: 'Advanced' });
  assert.equal(picks.length, 4);
  assert.ok(picks.every((p) => p.topic === 'T1' && p.level === 1 && /^P\(correct\) 0\.\d\d — practises T1 › T1\.S\d$/.test(p.reason)), JSON.stringify(picks));
  // bundles from bytes need a name for their learners; bad bytes are BUNDLE_INVALID
  const anon = await hearth.loadTracer(bytes);
  await rejects(anon.learner(), TypeError, /loadTracer\(bytes, \{ name \}\)/);
  await assert.rejects(hearth.loadTracer(new Uint8Array(64)), { code: 'BUNDLE_INVALID' });
  await rejects(hearth.loadTracer(bytes, { name: '' }), TypeError, /options.name/);
  tracer.dispose();
  await assert.rejects(l.mastery(), { code: 'DISPOSED' });
});

test('live sync: two open copies of one learner (two Hearth instances, as two tabs) apply each other\'s answers, none lost or doubled; clear reaches the other', async () => {
  const other = await Hearth.init();
  const tracers = [await hearth.loadTracer(fixture, { name: 'sim-live' }), await other.loadTracer(fixture, { name: 'sim-live' })];
  const a = await tracers[0].learner();
  await a.clear();
  await a.observe(want.script[0]);
  const b = await tracers[1].learner(); // replays that answer from the store: it must not come twice
  assert.equal(b.answered, 1);
  const until = async (l, n) => {
    for (let t = 0; l.answered !== n && t < 500; t++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(l.answered, n);
  };
  // the learner answers in one tab, then goes on in the other once it has caught up
  for (const x of want.script.slice(1, 15)) await a.observe(x);
  await until(b, 15);
  for (const x of want.script.slice(15)) await b.observe(x);
  await until(a, 30);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(a.answered, 30, 'no answer applied twice');
  assert.equal(b.answered, 30);
  // both hold the native session's state after its 30 answers, in order
  close(await a.mastery(), want.mastery, 1e-12);
  close(await b.mastery(), want.mastery, 1e-12);
  await b.clear();
  await until(a, 0);
  assert.equal((await a.mastery()).ability.answered, 0);
  other.dispose();
});

/** `n` answers over the fixture's 60 questions (from `qs`), an hour apart from `t0`. */
function answers(n, seed, qs = 60, q0 = 0, t0 = 1_760_000_000_000) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, (_, i) => ({ question: `Q${String(q0 + Math.floor(rnd() * qs)).padStart(3, '0')}`, correct: rnd() < 0.6, ts: t0 + i * 3_600_000 }));
}

/** Everything a learner reports (for exact comparison). */
async function report(l, now) {
  const ids = l.tracer.questions().map((q) => q.id);
  return {
    answered: l.answered,
    mastery: await l.mastery(),
    next: await l.next({ k: 10 }),
    assess: await l.next({ k: 5, mode: 'assess' }),
    due: await l.due({ now, all: true }),
    predict: await Promise.all(ids.map((q) => l.predict(q))),
  };
}

/** The `openLearner` calls `h` makes while `f` runs: `[{ saved, answers }]`. */
async function openings(h, f) {
  const seen = [];
  const call = h.call;
  h.call = function (op, args, ...rest) {
    if (op === 'openLearner') seen.push({ saved: args.saved !== undefined, answers: args.answers.length });
    return call.call(this, op, args, ...rest);
  };
  try {
    return { value: await f(), seen };
  } finally {
    h.call = call;
  }
}

test('stores: a long learner history saves the engine state beside the answers; reopening restores it and replays only the newest answers, with exactly the full replay\'s results', async () => {
  const { MemoryProfileStore } = await import('../dist/profile-store.js');
  const { SAVE_EVERY } = await import('../dist/tracer.js');
  const tracer = await hearth.loadTracer(fixture, { name: 'sim-compact' });
  const live = await tracer.learner();
  await live.clear();
  const list = answers(3000, 5);
  for (const a of list) await live.observe(a);
  const settle = () => new Promise((r) => setTimeout(r, 50)); // a save lands after the call that made it
  await settle();
  const store = new MemoryProfileStore('sim-compact:default', 'learner');
  const saved = await store.getState('learner');
  assert.ok(saved && saved.upTo > 3000 - SAVE_EVERY && saved.count === saved.upTo, `saved at ${saved?.upTo}`);
  assert.deepEqual(await live.answers(), list, 'every answer stays stored');
  // the full replay: the same answers in a store without a saved state
  const plain = new MemoryProfileStore('sim-compact:replay', 'learner');
  await plain.clear();
  for (const a of list) await plain.add(a);
  const { value: full, seen: fullSeen } = await openings(hearth, () => tracer.learner('replay'));
  assert.deepEqual(fullSeen, [{ saved: false, answers: 3000 }]);
  const t = performance.now();
  const { value: reopened, seen } = await openings(hearth, () => tracer.learner());
  const openMs = performance.now() - t;
  assert.equal(seen.length, 1);
  assert.equal(seen[0].saved, true);
  assert.ok(seen[0].answers < SAVE_EVERY, `replayed ${seen[0].answers} answers`);
  const now = list.at(-1).ts + 86_400_000;
  const want = await report(full, now);
  assert.deepEqual(await report(reopened, now), want, 'restored + newest answers = the full replay, bit for bit');
  assert.deepEqual(await report(live, now), want, 'and = the learner that answered them');
  // and they stay equal as the learner goes on
  for (const a of answers(50, 9, 60, 0, list.at(-1).ts + 3_600_000)) {
    assert.deepEqual(await reopened.observe(a), await full.observe(a));
  }
  assert.deepEqual(await report(reopened, now + 9e7), await report(full, now + 9e7));
  console.log(`# learner (memory store, Node): 3000 answers; reopen (saved state + ${seen[0].answers} answers) ${openMs.toFixed(1)} ms`);

  // a state saved for another bundle, or damaged, is ignored: every answer is replayed
  const cur = await store.getState('learner');
  for (const [what, bad] of [['another bundle', { ...cur, fingerprint: 'sha256-0' }], ['damaged', { ...cur, state: { ...cur.state, answered: 'x' } }]]) {
    await store.putState('learner', bad);
    const { value: l, seen: s } = await openings(hearth, () => tracer.learner());
    assert.deepEqual(s.map((x) => x.saved), [true, false], `${what}: tried, then replayed`);
    assert.equal(s[1].answers, 3050);
    assert.deepEqual(await report(l, now + 9e7), await report(full, now + 9e7), what);
    l.dispose();
    await settle();
  }
  // a state whose answers are not the store's (cleared and answered anew): ignored too
  await store.putState('learner', { ...cur, last: { ...cur.last, correct: !cur.last.correct } });
  const { seen: s2 } = await openings(hearth, () => tracer.learner());
  assert.deepEqual(s2, [{ saved: false, answers: 3050 }]);
  for (const l of [live, reopened, full]) await l.clear();
});

test('stores: a refused learner write rejects observe with STORAGE and leaves the learner as it was', async () => {
  const { MemoryProfileStore } = await import('../dist/profile-store.js');
  const tracer = await hearth.loadTracer(fixture, { name: 'sim-refused' });
  const l = await tracer.learner();
  await l.clear();
  const list = answers(300, 3);
  for (const a of list.slice(0, 250)) await l.observe(a);
  const now = list.at(-1).ts + 86_400_000;
  const before = await report(l, now);
  const add = MemoryProfileStore.prototype.add;
  MemoryProfileStore.prototype.add = async () => { throw new HearthError('STORAGE', 'record: IndexedDB refused the write (QuotaExceededError: test); nothing was recorded'); };
  try {
    await assert.rejects(l.observe(list[250]), (e) => e instanceof HearthError && e.code === 'STORAGE');
  } finally {
    MemoryProfileStore.prototype.add = add;
  }
  assert.deepEqual(await report(l, now), before, 'the refused answer left no trace');
  assert.equal((await l.answers()).length, 250);
  for (const a of list.slice(250)) await l.observe(a);
  const again = await tracer.learner();
  assert.deepEqual(await report(again, now), await report(l, now));
  await l.clear();
});

test('stores: two copies of one learner (two Hearth instances, as two tabs) answering at once: the saved state is only ever the store\'s replay; a reopened learner equals the full replay', async () => {
  const { MemoryProfileStore } = await import('../dist/profile-store.js');
  const other = await Hearth.init();
  const [ta, tb] = [await hearth.loadTracer(fixture, { name: 'sim-two' }), await other.loadTracer(fixture, { name: 'sim-two' })];
  const a = await ta.learner();
  await a.clear();
  const t0 = 1_760_000_000_000;
  for (const x of answers(250, 1, 30, 0, t0)) await a.observe(x);
  const b = await tb.learner();
  assert.equal(b.answered, 250);
  // both answer at once (tab a questions Q000–Q029, tab b Q030–Q059, so any order is valid)
  const xs = answers(400, 2, 30, 0, t0 + 1e9), ys = answers(400, 4, 30, 30, t0 + 1e9);
  for (let i = 0; i < 400; i++) await Promise.all([a.observe(xs[i]), b.observe(ys[i])]);
  for (let t = 0; (a.answered !== 1050 || b.answered !== 1050) && t < 500; t++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(a.answered, 1050);
  assert.equal(b.answered, 1050);
  const stored = await a.answers();
  assert.equal(stored.length, 1050);
  // the full replay of the store's order
  const plain = new MemoryProfileStore('sim-two:replay', 'learner');
  await plain.clear();
  for (const x of stored) await plain.add(x);
  const full = await ta.learner('replay');
  const now = t0 + 3e9;
  await new Promise((r) => setTimeout(r, 50));
  const { value: reopened, seen } = await openings(other, () => tb.learner());
  console.log(`# learner, two copies answering at once: reopened from ${seen[0].saved ? `a saved state + ${seen[0].answers}` : `all ${seen[0].answers}`} answers`);
  assert.deepEqual(await report(reopened, now), await report(full, now), 'reopened = the replay of the store, bit for bit');
  for (const l of [a, full]) await l.clear();
  other.dispose();
});
