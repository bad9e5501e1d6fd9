// `predict` from plain JS objects in the wasm build (TabularPredictor): the column transformer
// (skl2onnx) and float-matrix models (XGBoost, LightGBM via onnxmltools) of tests/tabular.rs,
// trained on UCI Online Shoppers (CC BY 4.0; Sakar et al. 2019, UCI ML Repository dataset 468)
// by tools/tabular_models.py. Labels must equal onnxruntime's exactly, probabilities within 1e-5;
// bad rows are FEATURE errors with row, field and reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { hearth, root, readPbs } from './common.mjs';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'June', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MATRIX = ['administrative', 'administrativeDuration', 'informational', 'informationalDuration', 'productRelated',
  'productRelatedDuration', 'bounceRates', 'exitRates', 'pageValues', 'specialDay', 'month', 'operatingSystems',
  'browser', 'region', 'trafficType', 'returningVisitor', 'weekend'];
const NUMERIC = ['Administrative', 'Administrative_Duration', 'Informational', 'Informational_Duration', 'ProductRelated',
  'ProductRelated_Duration', 'BounceRates', 'ExitRates', 'PageValues', 'SpecialDay'];
const camel = (s) => s.replace(/_/g, '').replace(/^./, (c) => c.toLowerCase());

const matrixSpec = {
  layout: 'matrix', input: 'X',
  features: MATRIX.map((name) => name === 'month'
    ? { name, kind: 'category', vocabulary: MONTHS, codes: MONTHS.map((_, i) => i + 1) }
    : name === 'returningVisitor' || name === 'weekend' ? { name, kind: 'boolean' } : { name, kind: 'number' }),
};
const columnSpec = {
  layout: 'columns',
  features: [
    ...NUMERIC.map((c) => ({ name: camel(c), kind: 'number', input: c, default: 'NaN' })),
    { name: 'month', kind: 'category', input: 'Month', vocabulary: MONTHS },
    { name: 'visitorType', kind: 'category', input: 'VisitorType', vocabulary: ['New_Visitor', 'Returning_Visitor', 'Other'] },
  ],
};

function modelsDir() {
  const cache = process.env.HEARTH_CACHE || path.join(os.homedir(), '.cache/hearth');
  const dir = path.join(cache, 'tabular-models-v2');
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    execFileSync('python3', [path.join(root, 'tools/tabular_models.py'), dir], { stdio: 'inherit' });
  }
  return dir;
}

function load(name) {
  const d = path.join(modelsDir(), name);
  const bytes = new Uint8Array(readFileSync(path.join(d, 'model.onnx')));
  const meta = JSON.parse(readFileSync(path.join(d, 'meta.json'), 'utf8'));
  const inputs = readPbs(d, 'input').map((pb) => hearth.decodeTensorProto(pb));
  const outputs = readPbs(d, 'output').map((pb) => hearth.decodeTensorProto(pb));
  return { bytes, meta, inputs, outputs, session: hearth.Session.fromBytes(bytes) };
}

function columnRows(c) {
  const n = c.inputs[0].dims[0];
  return Array.from({ length: n }, (_, r) => {
    const row = {};
    for (const f of columnSpec.features) {
      const t = c.inputs.find((i) => i.name === f.input);
      const v = t.data[r];
      if (typeof v === 'number' && Number.isNaN(v)) continue; // the spec's default (NaN) stands in
      row[f.name] = v;
    }
    return row;
  });
}

function matrixRows(c) {
  const x = c.inputs[0].data;
  return Array.from({ length: c.inputs[0].dims[0] }, (_, r) => Object.fromEntries(MATRIX.map((name, k) => {
    const v = x[r * 17 + k];
    return [name, name === 'month' ? MONTHS[v - 1] : name === 'returningVisitor' || name === 'weekend' ? v === 1 : v];
  })));
}

function checkClassifier(name, c, got) {
  const [labels, probs] = c.outputs;
  const zip = c.meta.zipmap['1']?.map(String);
  const classes = probs.data.length / got.length;
  assert.equal(got.length, labels.dims[0], `${name}: rows`);
  let worst = 0;
  got.forEach((p, r) => {
    const want = typeof labels.data[r] === 'bigint' ? Number(labels.data[r]) : labels.data[r];
    assert.equal(p.label, want, `${name}[${r}]: label`);
    const keys = Object.keys(p.probabilities);
    assert.equal(keys.length, classes, `${name}[${r}]: classes`);
    keys.forEach((k, j) => {
      const w = probs.data[r * classes + (zip ? zip.indexOf(k) : j)];
      const d = Math.abs(p.probabilities[k] - w);
      assert.ok(d <= 1e-5, `${name}[${r}][${k}]: ${p.probabilities[k]} vs onnxruntime ${w}`);
      worst = Math.max(worst, d);
    });
  });
  return worst;
}

test('the column transformer predicts from plain objects', () => {
  const c = load('column_transformer');
  const p = hearth.TabularPredictor.create(c.session, c.bytes, JSON.stringify(columnSpec));
  assert.equal(p.specSource, 'given');
  const got = p.predict(columnRows(c));
  const worst = checkClassifier('column_transformer', c, got);
  console.log(`column_transformer: ${got.length} rows, largest difference ${worst.toExponential(2)}`);
  assert.deepEqual(Object.keys(got[0].probabilities), ['0', '1']);
});

test('float-matrix models (XGBoost, LightGBM) predict from plain objects', () => {
  for (const name of ['xgboost_binary', 'lightgbm_binary', 'xgboost_multi']) {
    const c = load(name);
    const p = hearth.TabularPredictor.create(c.session, c.bytes, JSON.stringify(matrixSpec));
    const worst = checkClassifier(name, c, p.predict(matrixRows(c)));
    console.log(`${name}: largest difference ${worst.toExponential(2)}`);
  }
  const c = load('xgboost_regressor');
  const got = hearth.TabularPredictor.create(c.session, c.bytes, JSON.stringify(matrixSpec)).predict(matrixRows(c));
  got.forEach((g, r) => {
    const w = c.outputs[0].data[r];
    assert.ok(Math.abs(g.value - w) <= 1e-5 * Math.max(1, Math.abs(w)), `xgboost_regressor[${r}]: ${g.value} vs ${w}`);
    assert.equal(g.label, undefined);
  });
});

test('bad rows are FEATURE errors naming the row, the field and the reason', () => {
  const c = load('xgboost_binary');
  const p = hearth.TabularPredictor.create(c.session, c.bytes, JSON.stringify(matrixSpec));
  const good = matrixRows(c)[0];
  const cases = [
    [{ ...good, pageValues: undefined }, 'pageValues', 'missing'],
    [{ ...good, pageValues: null }, 'pageValues', 'missing'],
    [{ ...good, bounceRates: '0.2' }, 'bounceRates', 'type'],
    [{ ...good, weekend: 1 }, 'weekend', 'type'],
    [{ ...good, month: 'Movember' }, 'month', 'unknownCategory'],
    [{ ...good, exitRates: NaN }, 'exitRates', 'nonFinite'],
    [{ ...good, exitRates: -Infinity }, 'exitRates', 'nonFinite'],
    [{ ...good, exitRates: 10n }, 'exitRates', 'type'],
    [[1, 2], '', 'notAnObject'],
  ];
  for (const [bad, field, reason] of cases) {
    assert.throws(() => p.predict([good, bad]), (e) => {
      assert.equal(e.code, 'FEATURE', e.message);
      assert.equal(e.row, 1);
      assert.equal(e.field, field, e.message);
      assert.equal(e.reason, reason, e.message);
      if (field) assert.ok(e.message.includes(`'${field}'`), e.message);
      return true;
    });
  }
  assert.throws(() => p.predict(good), (e) => e.code === 'ARGUMENT');
});

test('specs: derived from named inputs, or a SPEC_INVALID pointing at hearth spec', () => {
  const x = load('xgboost_binary');
  assert.throws(() => hearth.TabularPredictor.create(x.session, x.bytes), (e) => e.code === 'SPEC_INVALID' && /hearth spec/.test(e.message));
  assert.throws(() => hearth.TabularPredictor.create(x.session, x.bytes, '{"layout":"rows","features":[]}'), (e) => e.code === 'SPEC_INVALID');
  const bad = { ...matrixSpec, features: matrixSpec.features.slice(0, 16) };
  assert.throws(() => hearth.TabularPredictor.create(x.session, x.bytes, JSON.stringify(bad)), (e) => e.code === 'SPEC_INVALID' && /column 16/.test(e.message));
  const c = load('column_transformer');
  const d = hearth.TabularPredictor.create(c.session, c.bytes);
  assert.equal(d.specSource, 'derived');
  assert.deepEqual(d.spec.features.map((f) => f.name), c.session.inputs.map((i) => i.name));
  const row = Object.fromEntries(NUMERIC.map((n) => [n, 1]));
  const [p] = d.predict([{ ...row, Month: 'Nov', VisitorType: 'Returning_Visitor' }]);
  assert.ok(Math.abs(p.probabilities['0'] + p.probabilities['1'] - 1) < 1e-6);
});
