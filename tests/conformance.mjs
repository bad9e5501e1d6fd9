// The ONNX node-test lists and their judgement for the wasm runners (tests/wasm/onnx_node.test.mjs
// in Node, tests/browser/webgpu.test.mjs in Chromium), the same rules as tests/onnx_node.rs:
// every case in onnx_node_expected_pass.txt must pass, a passing case must be on that list, a
// skip entry whose case passes is stale, and a list entry the data lacks is a failure. A case
// off the list that is rejected with a typed unsupported-op/dtype error, or that a skip list
// names, is skipped. No filter here: the runners run the whole suite. Two suites, as natively:
// the ONNX 1.17 files ([SUITES]['1.17']) and the cases a pinned recent onnx builds in memory
// ([SUITES].latest, generated into the cache as tests/onnx_node_latest.rs does).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = process.env.HEARTH_CACHE || path.join(homedir(), '.cache/hearth');

/** The two node-test suites: where their data lives in the cache and which lists judge them. */
export const SUITES = {
  '1.17': {
    dir: 'onnx-1.17.0',
    expected: 'onnx_node_expected_pass.txt',
    skip: 'onnx_node_skip.txt',
    skipWebgpu: 'onnx_node_skip_webgpu.txt',
  },
  latest: {
    // keep in step with ONNX and NUMPY in tests/onnx_node_latest.rs
    onnx: '1.23.2',
    numpy: '2.4.6',
    dir: 'onnx-1.23.2',
    expected: 'onnx_node_latest_expected_pass.txt',
    skip: 'onnx_node_latest_skip.txt',
    skipWebgpu: 'onnx_node_latest_skip_webgpu.txt',
  },
};

/**
 * The latest suite's node-test directory in the cache, generated when absent or incomplete as
 * the native suite does: a venv in the cache with the pinned onnx and numpy, then
 * tools/gen_onnx_node_tests.py. Throws when the data cannot be had.
 */
function latestDataDir() {
  const { onnx, numpy, dir } = SUITES.latest;
  const dest = path.join(cache, dir);
  const node = path.join(dest, 'node');
  const complete = path.join(node, '.complete');
  if (existsSync(complete) && readFileSync(complete, 'utf8').trim() === onnx) return node;
  const venv = path.join(cache, 'py', `onnx-${onnx}`);
  const python = path.join(venv, 'bin', 'python');
  if (!existsSync(python)) execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check',
    `onnx==${onnx}`, `numpy==${numpy}`], { stdio: 'inherit' });
  execFileSync(python, [path.join(root, 'tools/gen_onnx_node_tests.py'), dest], { stdio: 'inherit' });
  if (!existsSync(complete)) throw new Error(`the onnx ${onnx} node tests could not be generated into ${node}`);
  return node;
}

/**
 * The ONNX 1.17 node-test directory in the cache (or, with `suite` 'latest', the generated
 * recent suite's), fetched (the onnx wheel from PyPI, by
 * tools/fetch_onnx_testdata.py, as the native suite does) when it is not there yet. Throws when
 * the data cannot be had: a runner never skips the suite for want of data.
 */
export function nodeDataDir(suite = '1.17') {
  if (suite === 'latest') return latestDataDir();
  const dest = path.join(cache, 'onnx-1.17.0');
  const node = path.join(dest, 'node');
  if (!existsSync(node)) {
    execFileSync('python3', [path.join(root, 'tools/fetch_onnx_testdata.py'), dest], { stdio: 'inherit' });
  }
  if (!existsSync(node)) throw new Error(`the ONNX node-test data is missing from ${node} and could not be fetched`);
  return node;
}

/** `name # reason` lines of a list file under tests/; every entry must give its reason. */
export function readList(file, { reasons = true } = {}) {
  const text = readFileSync(path.join(root, 'tests', file), 'utf8');
  const out = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('#');
    const name = (i < 0 ? line : line.slice(0, i)).trim();
    const reason = i < 0 ? '' : line.slice(i + 1).trim();
    if (reasons && !reason) throw new Error(`tests/${file}: '${name}' has no reason`);
    out.set(name, reason);
  }
  return out;
}

/** input_<k>.pb / output_<k>.pb of an ONNX test data set, in order. */
export function readPbs(dir, prefix) {
  const out = [];
  for (let k = 0; existsSync(path.join(dir, `${prefix}_${k}.pb`)); k++) {
    out.push(new Uint8Array(readFileSync(path.join(dir, `${prefix}_${k}.pb`))));
  }
  return out;
}

export function listDirs(dir) {
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

/** The node-test cases (directories with a model.onnx), sorted. */
export function nodeCases(dir) {
  return listDirs(dir).filter((n) => existsSync(path.join(dir, n, 'model.onnx')));
}

/**
 * Judges a run of `suite` ('1.17' or 'latest', [SUITES]): `results` maps every case name to
 * `{ outcome, detail }` as the test builds' `conformanceCase` returns it. `gpu` adds the
 * GPU-only skip list (its cases leave the expected list). Returns `{ passed, skipped,
 * failures }`; the run is good when `failures` is empty.
 */
export function judge(results, { gpu = false, suite = '1.17' } = {}) {
  const lists = SUITES[suite];
  const expected = new Set(readList(lists.expected, { reasons: false }).keys());
  const skip = readList(lists.skip);
  if (gpu) {
    for (const [n, why] of readList(lists.skipWebgpu)) {
      expected.delete(n);
      skip.set(n, why);
    }
  }
  let passed = 0, skipped = 0;
  const failures = [];
  for (const n of [...expected, ...skip.keys()]) {
    if (expected.has(n) && skip.has(n)) failures.push(`${n}: both expected to pass and in a skip list`);
    if (!(n in results)) failures.push(`${n}: listed, but the test data has no such case`);
  }
  for (const [name, r] of Object.entries(results)) {
    const what = r.detail ? `${r.outcome}: ${r.detail}` : r.outcome;
    if (r.outcome === 'pass') {
      if (skip.has(name)) failures.push(`${name}: passes but a skip list names it (stale entry)`);
      else if (!expected.has(name)) failures.push(`${name}: passes but is not in tests/${lists.expected}`);
      else passed++;
    } else if (expected.has(name)) {
      failures.push(`${name}: expected to pass, got ${what}`);
    } else if (r.outcome === 'unsupported-op' || r.outcome === 'unsupported-dtype' || skip.has(name)) {
      skipped++;
    } else {
      failures.push(`${name}: ${what}`);
    }
  }
  return { passed, skipped, failures };
}
