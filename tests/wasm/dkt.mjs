// The DKT learning bundle of tests/tracer_dkt.rs, written in plain JS: tools/dkt_models.py
// writes the ONNX models (PyTorch's export of embedding → LSTM → Linear → sigmoid, built with
// onnx.helper) and onnxruntime's P(correct) over simulated sequences into
// $HEARTH_CACHE/dkt-models-v2 (run here when missing); the bundle (11 topics × 10 subtopics =
// 110 model skills, two questions per skill, `q{s}a` / `q{s}b`) is assembled with the
// independent safetensors writer of bundle.mjs. Never committed: the models are made at test time.
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { safetensors } from './bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The models' directory, written by tools/dkt_models.py when missing. */
export function dktDir() {
  const cache = process.env.HEARTH_CACHE || path.join(os.homedir(), '.cache/hearth');
  const dir = path.join(cache, 'dkt-models-v2');
  if (!existsSync(path.join(dir, 'dkt_reference.json'))) {
    execFileSync('python3', [path.join(root, 'tools/dkt_models.py'), dir], { stdio: 'inherit' });
  }
  return dir;
}

/** { skills, hidden, sequences: [[skill, correct], …][], p: { model: learner → step → row } } */
export function dktReference() {
  return JSON.parse(readFileSync(path.join(dktDir(), 'dkt_reference.json'), 'utf8'));
}

/** A learning bundle carrying `dkt_<model>.onnx` (`index`: ids offset 1, padding 0, h0/c0 → hn/cn). */
export function dktBundle(model = 'index', kt = {}) {
  const S = 110;
  const topics = Array.from({ length: 11 }, (_, t) => `T${t}`);
  const subtopics = Array.from({ length: S }, (_, s) => `T${Math.floor(s / 10)}.S${s % 10}`);
  const questions = Array.from({ length: 2 * S }, (_, q) => ({
    id: `q${q >> 1}${q % 2 ? 'b' : 'a'}`, topic: topics[Math.floor(q / 20)], subtopic: subtopics[q >> 1], level: 0,
  }));
  const index = model !== 'onehot';
  const spec = {
    kind: 'dkt',
    input: index ? { name: 'ids', encoding: 'index', dtype: 'int64', offset: 1, paddingId: 0 }
      : { name: 'x', encoding: 'onehot', dtype: 'float32' },
    output: { name: 'p', per: 'skill' },
    skills: subtopics,
    questionSkill: questions.map((_, q) => q >> 1),
    ...kt,
  };
  const manifest = { format: 'hearth.learning', version: 1, topics, subtopics, questions, model: 'elo', attribution: ['simulated (BKT) sequences'], kt: spec };
  const bytes = readFileSync(path.join(dktDir(), `dkt_${model}.onnx`));
  return safetensors({ kt_model: { dtype: 'U8', shape: [bytes.length], bytes: new Uint8Array(bytes), align: 1 } }, manifest);
}
