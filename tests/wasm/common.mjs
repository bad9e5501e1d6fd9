// Loads the CPU wasm build (pkg/wasm, made by scripts/build-wasm.sh) into Node.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as hearth from '../../pkg/wasm/hearth-cpu.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
hearth.initSync({ module: readFileSync(path.join(root, 'pkg/wasm/hearth-cpu_bg.wasm')) });
export { hearth };

/** input_<k>.pb / output_<k>.pb of an ONNX test data set, in order. */
export function readPbs(dir, prefix) {
  const out = [];
  for (let k = 0; existsSync(path.join(dir, `${prefix}_${k}.pb`)); k++) {
    out.push(new Uint8Array(readFileSync(path.join(dir, `${prefix}_${k}.pb`))));
  }
  return out;
}

/** `name # reason` lines of a list file under tests/. */
export function readList(file) {
  const text = existsSync(path.join(root, 'tests', file)) ? readFileSync(path.join(root, 'tests', file), 'utf8') : '';
  const out = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('#');
    out.set((i < 0 ? line : line.slice(0, i)).trim(), i < 0 ? '' : line.slice(i + 1).trim());
  }
  return out;
}

export function listDirs(dir) {
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}
