// The ONNX 1.17 node-test conformance suite, run by the wasm build in Node with the same
// judgement (hearth::conformance) and skip list as the native `cargo test --test onnx_node`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { hearth, readPbs, readList, listDirs } from './common.mjs';

const cache = process.env.HEARTH_CACHE || path.join(homedir(), '.cache/hearth');
const nodeDir = path.join(cache, 'onnx-1.17.0/node');

test('ONNX node tests in wasm', { skip: !existsSync(nodeDir) && 'run the native suite first: it fetches the data' }, () => {
  const skip = readList('onnx_node_skip.txt');
  let passed = 0, skipped = 0;
  const failures = [];
  for (const name of listDirs(nodeDir)) {
    const dir = path.join(nodeDir, name);
    if (!existsSync(path.join(dir, 'model.onnx'))) continue;
    const data = path.join(dir, 'test_data_set_0');
    const r = hearth.conformanceCase(new Uint8Array(readFileSync(path.join(dir, 'model.onnx'))),
      readPbs(data, 'input'), readPbs(data, 'output'));
    if (r === 'pass') passed++;
    else if (r.startsWith('unsupported-') || skip.has(name)) skipped++;
    else failures.push(`${name}: ${r}`);
  }
  console.log(`wasm conformance: ${passed} passed, ${failures.length} failed, ${skipped} skipped`);
  assert.deepEqual(failures, [], 'wasm conformance failures');
});
