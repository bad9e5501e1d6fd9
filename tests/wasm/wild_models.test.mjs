// The real-weight models of tests/wild_models.rs (PP-OCR from rapidocr_onnxruntime, silero VAD from
// silero-vad and @ricky0123/vad-web; fetched and pinned by tools/wild_models.py into
// $HEARTH_CACHE/wild-models-v1) in the wasm build, against onnxruntime's outputs with the
// manifest's tolerances; VAD streams carry the state the wasm build returns into its next call.
// ddddocr's two models (54 MB and 20 MB) run natively only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { hearth, root, readPbs } from './common.mjs';

const NATIVE_ONLY = new Set(['ddddocr_ocr', 'ddddocr_det']);

function modelsDir() {
  const cache = process.env.HEARTH_CACHE || path.join(os.homedir(), '.cache/hearth');
  const dir = path.join(cache, 'wild-models-v1');
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    execFileSync('python3', [path.join(root, 'tools/wild_models.py'), dir], { stdio: 'inherit' });
  }
  return dir;
}

function expectedList() {
  return new Set(readFileSync(path.join(root, 'tests/wild_models_expected.txt'), 'utf8')
    .split('\n').map((l) => l.split('#')[0].trim()).filter(Boolean));
}

function runCase(session, dir, c) {
  const { atol, rtol } = c.tolerance;
  let prev = null;
  let largest = 0;
  for (let k = 0; k < c.steps; k++) {
    const step = path.join(dir, `step_${k}`);
    const feeds = {};
    for (const pb of readPbs(step, 'input')) { const t = hearth.decodeTensorProto(pb); feeds[t.name] = t; }
    if (prev) for (const [o, i] of c.carry) feeds[i] = prev[o];
    const out = session.run(feeds);
    for (const pb of readPbs(step, 'output')) {
      const want = hearth.decodeTensorProto(pb);
      const got = out[want.name];
      assert.ok(got !== undefined, `${c.name} call ${k}: output ${want.name}`);
      assert.deepEqual(Array.from(got.dims), Array.from(want.dims), `${c.name} call ${k}: ${want.name} dims`);
      assert.equal(got.type, want.type, `${c.name} call ${k}: ${want.name} type`);
      for (let i = 0; i < want.data.length; i++) {
        const d = Math.abs(got.data[i] - want.data[i]);
        assert.ok(d <= atol + rtol * Math.abs(want.data[i]),
          `${c.name} call ${k}: ${want.name}[${i}] = ${got.data[i]}, onnxruntime ${want.data[i]}`);
        largest = Math.max(largest, d);
      }
    }
    prev = out;
  }
  return largest;
}

test('real-weight models from PyPI and npm packages match onnxruntime in wasm', () => {
  const dir = modelsDir();
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const expected = expectedList();
  const sessions = new Map();
  let passed = 0;
  for (const c of manifest.cases) {
    if (NATIVE_ONLY.has(c.model) || !expected.has(c.name)) continue;
    if (!sessions.has(c.model)) {
      sessions.set(c.model, hearth.Session.fromBytes(new Uint8Array(readFileSync(path.join(dir, 'models', `${c.model}.onnx`)))));
    }
    const d = runCase(sessions.get(c.model), path.join(dir, 'cases', c.name), c);
    console.log(`pass ${c.name} (largest |diff| ${d.toExponential(2)})`);
    passed++;
  }
  for (const s of sessions.values()) s.free();
  assert.ok(passed >= 20, `cases passed: ${passed}`);
});
