// The tabular models of tests/tabular.rs (skl2onnx, onnxmltools; trained on UCI Online Shoppers by
// tools/tabular_models.py into $HEARTH_CACHE/tabular-models-v1) in the wasm build: string inputs as
// string[], labels exactly, probabilities within 1e-5, ZipMap outputs as arrays of
// { label: probability } objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { hearth, root, readPbs } from './common.mjs';

const PENDING = { knn: 'skl2onnx KNN uses Scan, which the executor does not run yet (issue 15)' };

function modelsDir() {
  const cache = process.env.HEARTH_CACHE || path.join(os.homedir(), '.cache/hearth');
  const dir = path.join(cache, 'tabular-models-v1');
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    execFileSync('python3', [path.join(root, 'tools/tabular_models.py'), dir], { stdio: 'inherit' });
  }
  return dir;
}

test('exported tabular models match onnxruntime in wasm', () => {
  const dir = modelsDir();
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  let passed = 0;
  for (const name of manifest.models) {
    const d = path.join(dir, name);
    const meta = JSON.parse(readFileSync(path.join(d, 'meta.json'), 'utf8'));
    let s;
    try {
      s = hearth.Session.fromBytes(new Uint8Array(readFileSync(path.join(d, 'model.onnx'))));
    } catch (e) {
      if (PENDING[name]) { console.log(`${name}: pending (${PENDING[name]}): ${e.message}`); continue; }
      throw e;
    }
    const feeds = {};
    for (const pb of readPbs(d, 'input')) { const t = hearth.decodeTensorProto(pb); feeds[t.name] = t; }
    const out = s.run(feeds);
    const wants = readPbs(d, 'output').map((pb) => hearth.decodeTensorProto(pb));
    wants.forEach((want, k) => {
      const got = out[want.name];
      assert.ok(got !== undefined, `${name}: output ${want.name}`);
      const labels = meta.zipmap[String(k)];
      if (labels) {
        assert.ok(Array.isArray(got) && got.length === want.dims[0], `${name}/${want.name}: one map per row`);
        got.forEach((row, r) => {
          assert.deepEqual(Object.keys(row).map(String).sort(), labels.map(String).sort(), `${name}: keys`);
          labels.forEach((l, j) => {
            const w = want.data[r * labels.length + j];
            assert.ok(Math.abs(row[String(l)] - w) <= 1e-5, `${name}[${r}][${l}]: ${row[l]} vs ${w}`);
          });
        });
        return;
      }
      assert.deepEqual(got.dims, want.dims, `${name}/${want.name}: dims`);
      assert.equal(got.type, want.type, `${name}/${want.name}: type`);
      if (want.type === 'string' || want.type === 'int64') {
        assert.deepEqual(Array.from(got.data), Array.from(want.data), `${name}/${want.name}: labels`);
        return;
      }
      const rel = meta.kind === 'regressor' && k === 0;
      for (let i = 0; i < want.data.length; i++) {
        const tol = rel ? 1e-5 * Math.max(1, Math.abs(want.data[i])) : 1e-5;
        assert.ok(Math.abs(got.data[i] - want.data[i]) <= tol, `${name}/${want.name}[${i}]: ${got.data[i]} vs ${want.data[i]}`);
      }
    });
    passed++;
  }
  assert.ok(passed >= 20, `models passed: ${passed}`);
});

test('string tensors cross as string[] and wrong elements are named', () => {
  const dir = modelsDir();
  const s = hearth.Session.fromBytes(new Uint8Array(readFileSync(path.join(dir, 'column_transformer/model.onnx'))));
  assert.equal(s.inputs.find((i) => i.name === 'Month').type, 'string');
  const feeds = {};
  for (const i of s.inputs) {
    feeds[i.name] = i.type === 'string' ? { data: ['Nov'], dims: [1, 1] } : { data: new Float32Array([1]), dims: [1, 1] };
  }
  const out = s.run(feeds);
  const probs = out[s.outputs[1].name];
  assert.ok(Array.isArray(probs) && Math.abs(Object.values(probs[0]).reduce((a, b) => a + b, 0) - 1) < 1e-5);
  feeds.Month = { data: ['Nov', 3], dims: [2, 1] };
  assert.throws(() => s.run(feeds), (e) => e.code === 'ARGUMENT' && /Month/.test(e.message) && /data\[1\]/.test(e.message));
});
