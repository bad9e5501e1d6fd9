// hearth-ml's Model.predict from plain objects (Node entry, inline engine) on the real exporters'
// models of tests/tabular.rs (tools/tabular_models.py: UCI Online Shoppers, CC BY 4.0; Sakar et
// al. 2019, UCI ML Repository dataset 468): labels equal onnxruntime's, probabilities within
// 1e-5; bad rows reject with HearthError FEATURE naming row, field and reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hearth, HearthError } from 'hearth-ml';
// the test build (feature `test-api`) only to decode the reference TensorProtos
import * as testGlue from '../../tests/wasm-build/hearth-cpu.js';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(pkg, '..');
testGlue.initSync({ module: readFileSync(path.join(root, 'tests/wasm-build/hearth-cpu_bg.wasm')) });

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'June', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const NUMERIC = ['Administrative', 'Administrative_Duration', 'Informational', 'Informational_Duration', 'ProductRelated',
  'ProductRelated_Duration', 'BounceRates', 'ExitRates', 'PageValues', 'SpecialDay'];
const camel = (s) => s.replace(/_/g, '').replace(/^./, (c) => c.toLowerCase());
const columnSpec = {
  layout: 'columns',
  features: [
    ...NUMERIC.map((c) => ({ name: camel(c), kind: 'number', input: c, default: 'NaN' })),
    { name: 'month', kind: 'category', input: 'Month', vocabulary: MONTHS },
    { name: 'visitorType', kind: 'category', input: 'VisitorType', vocabulary: ['New_Visitor', 'Returning_Visitor', 'Other'] },
  ],
};
const MATRIX = ['administrative', 'administrativeDuration', 'informational', 'informationalDuration', 'productRelated',
  'productRelatedDuration', 'bounceRates', 'exitRates', 'pageValues', 'specialDay', 'month', 'operatingSystems',
  'browser', 'region', 'trafficType', 'returningVisitor', 'weekend'];
const matrixSpec = {
  layout: 'matrix',
  features: MATRIX.map((name) => name === 'month'
    ? { name, kind: 'category', vocabulary: MONTHS, codes: MONTHS.map((_, i) => i + 1) }
    : name === 'returningVisitor' || name === 'weekend' ? { name, kind: 'boolean' } : { name, kind: 'number' }),
};

function caseDir(name) {
  const cache = process.env.HEARTH_CACHE || path.join(os.homedir(), '.cache/hearth');
  const dir = path.join(cache, 'tabular-models-v2');
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    execFileSync('python3', [path.join(root, 'tools/tabular_models.py'), dir], { stdio: 'inherit' });
  }
  return path.join(dir, name);
}

function pbs(d, prefix) {
  const out = [];
  for (let i = 0; existsSync(path.join(d, `${prefix}_${i}.pb`)); i++) {
    out.push(testGlue.decodeTensorProto(new Uint8Array(readFileSync(path.join(d, `${prefix}_${i}.pb`)))));
  }
  return out;
}

let hearth;
before(async () => { hearth = await Hearth.init(); });
after(() => hearth?.dispose());

test('predict: the column transformer from plain objects, one row and a batch', async () => {
  const d = caseDir('column_transformer');
  const model = await hearth.loadModel(path.join(d, 'model.onnx'), { featureSpec: columnSpec });
  const inputs = pbs(d, 'input');
  const [labels, probs] = pbs(d, 'output');
  const order = JSON.parse(readFileSync(path.join(d, 'meta.json'), 'utf8')).zipmap['1'].map(String);
  const rows = Array.from({ length: inputs[0].dims[0] }, (_, r) => Object.fromEntries(columnSpec.features.map((f) => {
    const t = inputs.find((i) => i.name === f.input);
    return [f.name, t.data[r]];
  })));
  const got = await model.predict(rows);
  assert.equal(got.length, rows.length);
  got.forEach((p, r) => {
    assert.equal(p.label, Number(labels.data[r]), `row ${r}: label`);
    for (const [k, v] of Object.entries(p.probabilities)) {
      const w = probs.data[r * order.length + order.indexOf(k)];
      assert.ok(Math.abs(v - w) <= 1e-5, `row ${r} [${k}]: ${v} vs onnxruntime ${w}`);
    }
  });
  const one = await model.predict(rows[5]);
  assert.deepEqual(one, got[5]);
  const { spec, source } = await model.featureSpec();
  assert.equal(source, 'given');
  assert.equal(spec.features.length, 12);
  model.dispose();
});

test('predict: an XGBoost float-matrix model and its errors', async () => {
  const d = caseDir('xgboost_binary');
  // no spec: the [N, 17] matrix does not name its columns
  const bare = await hearth.loadModel(path.join(d, 'model.onnx'));
  await assert.rejects(bare.predict({ a: 1 }), (e) => e instanceof HearthError && e.code === 'SPEC_INVALID' && /hearth spec/.test(e.message));
  bare.dispose();
  await assert.rejects(hearth.loadModel(path.join(d, 'model.onnx'), { featureSpec: { ...matrixSpec, features: matrixSpec.features.slice(1) } }),
    (e) => e instanceof HearthError && e.code === 'SPEC_INVALID');
  await assert.rejects(hearth.loadModel(path.join(d, 'model.onnx'), { featureSpec: 7 }), TypeError);
  const model = await hearth.loadModel(path.join(d, 'model.onnx'), { featureSpec: JSON.stringify(matrixSpec) });
  const [x] = pbs(d, 'input');
  const [labels, probs] = pbs(d, 'output');
  const rows = Array.from({ length: x.dims[0] }, (_, r) => Object.fromEntries(MATRIX.map((name, k) => {
    const v = x.data[r * 17 + k];
    return [name, name === 'month' ? MONTHS[v - 1] : name === 'returningVisitor' || name === 'weekend' ? v === 1 : v];
  })));
  const got = await model.predict(rows);
  got.forEach((p, r) => {
    assert.equal(p.label, Number(labels.data[r]));
    assert.ok(Math.abs(p.probabilities['1'] - probs.data[r * 2 + 1]) <= 1e-5, `row ${r}`);
  });
  for (const [bad, field, reason] of [
    [{ ...rows[0], pageValues: undefined }, 'pageValues', 'missing'],
    [{ ...rows[0], weekend: 'no' }, 'weekend', 'type'],
    [{ ...rows[0], month: 'Smarch' }, 'month', 'unknownCategory'],
    [{ ...rows[0], exitRates: NaN }, 'exitRates', 'nonFinite'],
  ]) {
    await assert.rejects(model.predict([rows[0], bad]), (e) => {
      assert.ok(e instanceof HearthError, String(e));
      assert.equal(e.code, 'FEATURE');
      assert.deepEqual([e.row, e.field, e.reason], [1, field, reason], e.message);
      return true;
    });
  }
  await assert.rejects(model.predict(42), TypeError);
  model.dispose();
  await assert.rejects(model.predict(rows[0]), (e) => e.code === 'DISPOSED');
});

test('run: a DictVectorizer pipeline from plain objects, ZipMap outputs as arrays of maps', async () => {
  const d = caseDir('dict_vectorizer');
  const model = await hearth.loadModel(path.join(d, 'model.onnx'));
  assert.deepEqual([model.inputs[0].kind, model.inputs[0].keyType, model.inputs[0].type], ['map', 'string', 'float32']);
  const zm = model.outputs[1];
  assert.deepEqual([zm.kind, zm.keyType], ['mapSequence', 'int64']);
  const { input, rows } = JSON.parse(readFileSync(path.join(d, 'inputs.json'), 'utf8'));
  const [labels, probs] = pbs(d, 'output');
  const order = JSON.parse(readFileSync(path.join(d, 'meta.json'), 'utf8')).zipmap['1'].map(String);
  for (let r = 0; r < 40; r++) {
    const out = await model.run({ [input]: rows[r] });
    assert.equal(out[model.outputs[0].name].data[0], labels.data[r], `row ${r}: label`);
    const p = out[zm.name];
    assert.ok(Array.isArray(p) && p.length === 1, `row ${r}: one map`);
    for (const [k, v] of Object.entries(p[0])) {
      const w = probs.data[r * order.length + order.indexOf(k)];
      assert.ok(Math.abs(v - w) <= 1e-5, `row ${r} [${k}]: ${v} vs onnxruntime ${w}`);
    }
  }
  await assert.rejects(model.run({ [input]: [rows[0]] }), (e) => e instanceof TypeError && /features/.test(e.message) && /map/.test(e.message));
  await assert.rejects(model.run({ [input]: { PageValues: true } }), (e) => e instanceof TypeError && /PageValues/.test(e.message));
  await assert.rejects(model.run({ [input]: { PageValues: 'x' } }), (e) => e instanceof HearthError && e.code === 'INPUT' && /PageValues/.test(e.message));
  model.dispose();
});
