// A learning bundle with a DKT sequence model through the package in Node (dist/node.js, inline
// engine): the learner's predictions follow onnxruntime's P(correct) over the simulated sequence
// (within 1e-5) after every answer; a reload replays the stored answers into the same model
// state; info.kt describes the model. The bundle and its models are made at test time
// (tests/wasm/dkt.mjs, tools/dkt_models.py), never committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hearth } from 'hearth-ml';
import { dktBundle, dktReference } from '../../tests/wasm/dkt.mjs';

const TOL = 1e-5;

test('loadTracer with a DKT bundle: streamed predictions, mastery, next, replay', async () => {
  const ref = dktReference();
  const bytes = dktBundle('index');
  const hearth = await Hearth.init();
  const tracer = await hearth.loadTracer(bytes, { name: 'dkt-node' });
  assert.deepEqual(tracer.info.kt.recurrent, ['/rnn/LSTM']);
  assert.equal(tracer.info.kt.state, 'carry');
  const learner = await tracer.learner();
  assert.equal((await learner.predict('q0a')).model, 'elo');
  const seq = ref.sequences[2].slice(0, 60);
  for (const [step, [s, c]] of seq.entries()) {
    await learner.observe({ question: `q${s}a`, correct: c === 1, ts: 1.7e12 + step * 86_400_000 });
    const p = await learner.predict(`q${s}b`);
    assert.equal(p.model, 'dkt');
    const want = ref.p.dkt_index[2][step][s];
    assert.ok(Math.abs(p.pCorrect - want) <= TOL, `step ${step}: ${p.pCorrect} vs ${want}`);
  }
  const row = ref.p.dkt_index[2][seq.length - 1];
  const kt = (await learner.mastery()).kt;
  assert.equal(kt.length, ref.skills);
  kt.forEach((k, i) => assert.ok(Math.abs(k.pCorrect - row[i]) <= TOL, `${k.skill}: ${k.pCorrect} vs ${row[i]}`));
  for (const n of await learner.next({ k: 5 })) {
    assert.ok(Math.abs(n.pCorrect - row[Number(n.question.slice(1, -1))]) <= TOL, JSON.stringify(n));
  }

  // "reload": a new instance replays the stored answers through the model
  const again = await Hearth.init();
  const l2 = await (await again.loadTracer(bytes, { name: 'dkt-node' })).learner();
  assert.equal(l2.answered, seq.length);
  assert.deepEqual((await l2.mastery()).kt, kt);
  await l2.clear();
  assert.ok((await l2.mastery()).kt.every((k) => k.pCorrect === null));
  again.dispose();
  hearth.dispose();
});
