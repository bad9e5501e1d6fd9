// The sequence model of a learning bundle in the wasm build: a learner streams simulated answers
// through the DKT LSTM one step at a time (state carried) and must give onnxruntime's P(correct)
// on the whole sequence after every answer (within 1e-5, as natively in tests/tracer_dkt.rs);
// a learner replayed from its stored answers (observeMany) has the same state; a bundle whose
// model cannot stream is BUNDLE_INVALID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hearth } from './common.mjs';
import { dktBundle, dktReference } from './dkt.mjs';

const TOL = 1e-5;

test('a streamed DKT learner gives onnxruntime\'s probabilities after every answer', () => {
  const ref = dktReference();
  for (const model of ['index', 'onehot']) {
    const t = hearth.Tracer.fromBytes(dktBundle(model));
    const info = t.info();
    assert.deepEqual(info.kt, { kind: 'dkt', state: 'carry', skills: info.kt.skills, recurrent: ['/rnn/LSTM'] });
    assert.equal(info.kt.skills.length, ref.skills);
    const l = t.newLearner();
    assert.equal(l.predict('q0a').model, 'elo');
    assert.ok(l.mastery().kt.every((k) => k.pCorrect === null));
    const seq = ref.sequences[1];
    let worst = 0;
    seq.forEach(([s, c], step) => {
      l.observe(`q${s}a`, c === 1, 1.7e12 + step * 86_400_000);
      const want = ref.p[`dkt_${model}`][1][step];
      const kt = l.mastery().kt;
      kt.forEach((k, i) => { worst = Math.max(worst, Math.abs(k.pCorrect - want[i])); });
      const p = l.predict(`q${s}b`);
      assert.equal(p.model, 'dkt');
      assert.ok(Math.abs(p.pCorrect - want[s]) <= TOL, `${model} step ${step}: ${p.pCorrect} vs ${want[s]}`);
    });
    assert.ok(worst <= TOL, `${model}: largest difference ${worst}`);
    // next() ranks by the model's probabilities
    const row = ref.p[`dkt_${model}`][1][seq.length - 1];
    for (const n of l.next({ k: 5 })) {
      const s = Number(n.question.slice(1, -1));
      assert.ok(Math.abs(n.pCorrect - row[s]) <= TOL, JSON.stringify(n));
    }
    // replayed from the stored answers: the same state
    const r = t.newLearner();
    const applied = r.observeMany(seq.map(([s, c], step) => ({ question: `q${s}a`, correct: c === 1, ts: 1.7e12 + step * 86_400_000 })));
    assert.equal(applied.applied, seq.length);
    assert.deepEqual(r.mastery().kt, l.mastery().kt);
    r.clear();
    assert.ok(r.mastery().kt.every((k) => k.pCorrect === null));
  }
});

test('a model that cannot stream, or a spec that does not fit it, is BUNDLE_INVALID', () => {
  const bad = (bytes, re) => {
    try {
      hearth.Tracer.fromBytes(bytes);
      assert.fail('loaded');
    } catch (e) {
      assert.equal(e.code, 'BUNDLE_INVALID', e.message);
      assert.match(e.message, re);
    }
  };
  bad(dktBundle('bidir'), /LSTM node '\/rnn\/LSTM' runs in both directions/);
  bad(dktBundle('index', { output: { name: 'logits', per: 'skill' } }), /kt.output.name 'logits' is not an output/);
  bad(dktBundle('index', { questionSkill: [1, 2] }), /kt.questionSkill has 2 entries, expected one per question \(220\)/);
});
