// The ONNX node-test conformance suites, run by the wasm test build in Node with the same
// judgement (hearth::conformance) and lists as the native `cargo test --test onnx_node` (the
// ONNX 1.17 files) and `--test onnx_node_latest` (the cases the pinned recent onnx generates).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { hearth } from './common.mjs';
import { nodeDataDir, nodeCases, readPbs, judge } from '../conformance.mjs';

for (const [suite, title] of [['1.17', 'ONNX 1.17'], ['latest', 'onnx 1.23.2']]) {
  test(`${title} node tests in wasm`, () => {
    const nodeDir = nodeDataDir(suite);
    const results = {};
    for (const name of nodeCases(nodeDir)) {
      const dir = path.join(nodeDir, name);
      const data = path.join(dir, 'test_data_set_0');
      results[name] = hearth.conformanceCase(new Uint8Array(readFileSync(path.join(dir, 'model.onnx'))),
        readPbs(data, 'input'), readPbs(data, 'output'));
    }
    const { passed, skipped, failures } = judge(results, { suite });
    console.log(`wasm conformance (${title}): ${passed} passed, ${failures.length} failed, ${skipped} skipped`);
    assert.deepEqual(failures, [], `wasm conformance failures (${title})`);
  });
}
