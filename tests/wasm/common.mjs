// Loads the CPU wasm test build (tests/wasm-build/hearth-cpu.js: the shipped hearth-cpu plus
// feature `test-api`, made by scripts/build-wasm.sh) into Node.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as hearth from '../wasm-build/hearth-cpu.js';
import { root } from '../conformance.mjs';

// the instance's exports (`wasm.memory`: heap measurements)
const wasm = hearth.initSync({ module: readFileSync(path.join(root, 'tests/wasm-build/hearth-cpu_bg.wasm')) });
export { hearth, root, wasm };
export { readPbs, listDirs } from '../conformance.mjs';
