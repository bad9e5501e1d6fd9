// The knowledge tracer in the wasm build: the scripted session of
// tests/fixtures/education/tracer_sim_expected.json (written by the native build, tests/tracer.rs)
// replayed here must give the same numbers; a learning bundle written in plain JS (an
// independent safetensors writer) loads and predicts by the formulas computed here; typed errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { hearth, root } from './common.mjs';
import { safetensors } from './bundle.mjs';

const dir = path.join(root, 'tests/fixtures/education');
const bundle = readFileSync(path.join(dir, 'tracer_sim.hearth'));
const want = JSON.parse(readFileSync(path.join(dir, 'tracer_sim_expected.json'), 'utf8'));

/** Deep equality with numbers within `tol` (relative to max(1, |want|)); reports the path. */
function close(got, exp, tol, at = '$') {
  if (typeof exp === 'number') {
    assert.equal(typeof got, 'number', `${at}: ${got} is not a number`);
    assert.ok(Math.abs(got - exp) <= tol * Math.max(1, Math.abs(exp)), `${at}: ${got} vs ${exp}`);
  } else if (Array.isArray(exp)) {
    assert.ok(Array.isArray(got), `${at} is not an array`);
    assert.equal(got.length, exp.length, `${at}.length`);
    exp.forEach((e, i) => close(got[i], e, tol, `${at}[${i}]`));
  } else if (exp && typeof exp === 'object') {
    assert.deepEqual(Object.keys(got).sort(), Object.keys(exp).sort(), `${at} keys`);
    for (const k of Object.keys(exp)) close(got[k], exp[k], tol, `${at}.${k}`);
  } else {
    assert.equal(got, exp, at);
  }
}

test('the scripted session gives the native build\'s numbers', () => {
  const t = hearth.Tracer.fromBytes(bundle);
  const info = t.info();
  assert.equal(info.format, 'hearth.learning');
  assert.equal(info.model, 'irt2pl');
  assert.equal(info.numQuestions, 60);
  assert.deepEqual(info.topics, ['T0', 'T1', 'T2']);
  assert.equal(t.questions().length, 60);
  const l = t.newLearner();
  const observed = want.script.map((a) => l.observe(a.question, a.correct, a.ts));
  const last = want.script.at(-1).ts;
  const got = {
    observed,
    mastery: l.mastery(),
    predict: ['Q000', 'Q017', 'Q030', 'Q044', 'Q059'].map((q) => l.predict(q)),
    nextPractice: l.next(undefined),
    nextAssess: l.next({ k: 3, mode: 'assess', topic: 'T2' }),
    due: l.due(last + 86_400_000, false),
    dueAll: l.due(last, true),
    script: want.script,
  };
  // the same f64 code on both sides; libm's exp/ln may differ in the last bit
  close(got, want, 1e-12);
  assert.equal(l.answered, 30);
  // a replay gives the same state
  const r = t.newLearner();
  assert.deepEqual(r.observeMany(want.script), { applied: 30, skipped: [] });
  close(r.mastery(), want.mastery, 1e-12);
  const skipped = t.newLearner().observeMany([{ question: 'gone', correct: true, ts: 0 }, want.script[0]]);
  assert.deepEqual(skipped, { applied: 1, skipped: ['gone'] });
  l.clear();
  assert.equal(l.answered, 0);
  assert.ok(Math.abs(l.mastery().ability.mean) < 1e-12);
});

test('typed errors', () => {
  const t = hearth.Tracer.fromBytes(bundle);
  const l = t.newLearner();
  const code = (fn) => { try { fn(); } catch (e) { return [e.code, e.message]; } return ['none', '']; };
  assert.equal(code(() => hearth.Tracer.fromBytes(new Uint8Array([1, 2, 3])))[0], 'BUNDLE_INVALID');
  assert.equal(code(() => l.observe('nope', true, 0))[0], 'UNKNOWN_ITEM');
  assert.equal(code(() => l.predict('nope'))[0], 'UNKNOWN_ITEM');
  assert.equal(code(() => t.question('nope'))[0], 'UNKNOWN_ITEM');
  assert.equal(code(() => l.next({ exclude: ['nope'] }))[0], 'UNKNOWN_ITEM');
  const [c, m] = code(() => l.next({ k: 0 }));
  assert.equal(c, 'ARGUMENT');
  assert.match(m, /options\.k/);
  // (unknown option names are refused by the package, src: pkg/src/tracer.ts)
  assert.match(code(() => l.next({ mode: 'exam' }))[1], /options/);
  assert.match(code(() => l.next({ topic: 'T7' }))[1], /options\.topic 'T7'/);
  assert.equal(code(() => l.observe('Q000', true, NaN))[0], 'ARGUMENT');
  assert.equal(l.answered, 0, 'nothing recorded by the failed calls');
});

test('a bundle written in JS loads and predicts by the formulas', () => {
  const questions = [
    { id: 'a', topic: 'Algebra', level: 0 },
    { id: 'b', topic: 'Algebra', subtopic: 'Matrices', level: 1 },
    { id: 'c', topic: 'Calculus', level: 0 },
  ];
  const manifest = { format: 'hearth.learning', version: 1, topics: ['Algebra', 'Calculus'], subtopics: ['Matrices'], levels: ['Basic', 'Advanced'], questions, model: 'irt1pl', attribution: ['synthetic'] };
  const b = new Float64Array([-1, 0.5, 2]);
  const tensors = {
    irt_difficulty: { dtype: 'F64', shape: [3], bytes: b, align: 8 },
    irt_discrimination: { dtype: 'F64', shape: [3], bytes: new Float64Array([1, 1, 1]), align: 8 },
    irt_fitted: { dtype: 'U8', shape: [3], bytes: new Uint8Array([1, 1, 0]), align: 1 },
    elo_rating: { dtype: 'F64', shape: [3], bytes: new Float64Array([0, 0, 0.8]), align: 8 },
  };
  const t = hearth.Tracer.fromBytes(safetensors(tensors, manifest));
  assert.deepEqual(t.info().skills, [{ skill: 'Algebra', topic: 'Algebra' }, { skill: 'Matrices', topic: 'Algebra' }, { skill: 'Calculus', topic: 'Calculus' }]);
  assert.deepEqual(t.question('c'), { id: 'c', topic: 'Calculus', skill: 'Calculus', level: 0, levelName: 'Basic', keywords: [], difficulty: 0.8, discrimination: 1, model: 'elo' });
  const l = t.newLearner();
  const sig = (z) => 1 / (1 + Math.exp(-z));
  // a fresh learner: N(0, 1) on the 61-point grid of [-5, 5], probit approximation
  const grid = Array.from({ length: 61 }, (_, q) => -5 + q / 6);
  const moments = (w) => {
    const z = w.reduce((s, x) => s + x, 0);
    const mean = grid.reduce((s, th, q) => s + th * w[q], 0) / z;
    return { mean, sd: Math.sqrt(grid.reduce((s, th, q) => s + th * th * w[q], 0) / z - mean * mean) };
  };
  const m0 = l.mastery().ability;
  const prior = moments(grid.map((th) => Math.exp(-th * th / 2)));
  assert.ok(Math.abs(m0.sd - prior.sd) < 1e-12 && Math.abs(m0.mean) < 1e-12, JSON.stringify([m0, prior]));
  for (const [id, bi] of [['a', -1], ['b', 0.5]]) {
    const want = sig((m0.mean - bi) / Math.sqrt(1 + Math.PI * m0.sd * m0.sd / 8));
    assert.ok(Math.abs(l.predict(id).pCorrect - want) < 1e-12, id);
  }
  assert.ok(Math.abs(l.predict('c').pCorrect - sig(-0.8)) < 1e-15, 'Elo expectation');
  // one answer: the posterior on the 61-point grid of [-5, 5], computed here
  const o = l.observe('b', true, 0);
  const { mean, sd } = moments(grid.map((th) => Math.exp(-th * th / 2) * sig(th - 0.5)));
  assert.ok(Math.abs(o.ability.mean - mean) < 1e-12 && Math.abs(o.ability.sd - sd) < 1e-12);
  assert.equal(o.skill.skill, 'Matrices');
  assert.ok(Math.abs(o.skill.mean - mean) < 1e-12);
  assert.equal(o.topic.answered, 1);
  assert.equal(o.review.state, 'learning');
  // the last answered question is never proposed; 'assess' ranks by a² P (1 − P)
  const picks = l.next({ k: 3, mode: 'assess' });
  assert.deepEqual(picks.map((p) => p.question).sort(), ['a', 'c']);
  // information at the EAP mean: IRT σ(θ − b)(1 − σ) for 'a'; for 'c' (Elo) at the learner's
  // rating after one answer, 0 + K(0) (1 − σ(0 − 0)) = 0.4
  const info = { a: sig(mean + 1) * (1 - sig(mean + 1)), c: sig(0.4 - 0.8) * (1 - sig(0.4 - 0.8)) };
  for (const p of picks) assert.ok(Math.abs(p.information - info[p.question]) < 1e-12, p.question);
  assert.deepEqual(picks.map((p) => p.question), info.a >= info.c ? ['a', 'c'] : ['c', 'a']);
  // bad bundles name the field
  const bad = structuredClone(manifest);
  bad.questions[2].topic = 'Geometry';
  try {
    hearth.Tracer.fromBytes(safetensors(tensors, bad));
    assert.fail('loaded');
  } catch (e) {
    assert.equal(e.code, 'BUNDLE_INVALID');
    assert.match(e.message, /questions\[2\] \('c'\): topic 'Geometry' is not in topics/);
  }
});
