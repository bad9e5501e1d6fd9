// Makes sure the local hearth-ml package (../pkg, linked as node_modules/hearth-ml) is built,
// skipping what is fresh: scripts/test.sh has built the wasm and pkg/dist already by the time it
// runs the shop's tests, so nothing is rebuilt there. From a clean checkout this installs pkg's
// dev dependencies, builds both wasm builds (scripts/build-wasm.sh) and compiles the TypeScript.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const www = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(www, '..');
const pkg = path.join(root, 'pkg');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', ...opts });

function newest(p) {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = 0;
  for (const e of readdirSync(p)) m = Math.max(m, newest(path.join(p, e)));
  return m;
}
const older = (file, than) => !existsSync(file) || statSync(file).mtimeMs < than;

// the shipped builds: hearth-cpu (CPU only), hearth-cpu-full (adds ai.onnx.ml and the tracer,
// which the package loads for those) and hearth (CPU + WebGPU, loaded when WebGPU gives an adapter)
const builds = ['hearth-cpu', 'hearth-cpu-full', 'hearth'].flatMap((n) => [`wasm/${n}_bg.wasm`, `wasm/${n}.js`]).map((f) => path.join(pkg, f));
const rust = Math.max(newest(path.join(root, 'src')), newest(path.join(root, 'shaders')), newest(path.join(root, 'Cargo.toml')), newest(path.join(root, 'Cargo.lock')));
if (builds.some((f) => older(f, rust))) {
  console.log('prepare: a wasm build is missing or older than src/: scripts/build-wasm.sh');
  run('bash', [path.join(root, 'scripts/build-wasm.sh')]);
} else {
  console.log('prepare: pkg/wasm is fresh');
}
if (older(path.join(pkg, 'dist/index.js'), Math.max(newest(path.join(pkg, 'src')), ...builds.map((f) => statSync(f).mtimeMs)))) {
  if (!existsSync(path.join(pkg, 'node_modules/typescript'))) {
    console.log('prepare: npm ci --prefix pkg');
    run('npm', ['ci', '--silent', '--no-audit', '--no-fund', '--prefix', pkg]);
  }
  console.log('prepare: tsc -p pkg');
  run(process.execPath, [path.join(pkg, 'node_modules/typescript/bin/tsc'), '-p', pkg]);
} else {
  console.log('prepare: pkg/dist is fresh');
}
