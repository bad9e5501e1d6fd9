// Builds what `npm test` needs, skipping what is fresh: the wasm builds (only when missing or older
// than the Rust sources: scripts/test.sh has built it already in CI), the TypeScript (tsc), the
// packed package installed into the Vite example, and the example's production build.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, readdirSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(pkg, '..');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', ...opts });

function newest(p) {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = 0;
  for (const e of readdirSync(p)) m = Math.max(m, newest(path.join(p, e)));
  return m;
}

// the shipped builds: hearth-cpu (CPU only), hearth-cpu-full (adds ai.onnx.ml and the tracer) and
// hearth (CPU + WebGPU, loaded when WebGPU has an adapter), and the CPU test build (tests/wasm-build/, feature `test-api`) that decodes fixtures
const builds = [...['hearth-cpu', 'hearth-cpu-full', 'hearth'].flatMap((n) => [`pkg/wasm/${n}_bg.wasm`, `pkg/wasm/${n}.js`]),
  'tests/wasm-build/hearth-cpu_bg.wasm', 'tests/wasm-build/hearth-cpu.js'].map((f) => path.join(root, f));
const sources = Math.max(newest(path.join(root, 'src')), newest(path.join(root, 'shaders')), newest(path.join(root, 'Cargo.toml')), newest(path.join(root, 'Cargo.lock')));
if (builds.some((f) => !existsSync(f) || statSync(f).mtimeMs < sources)) {
  console.log('prepare: a wasm build is missing or older than src/: scripts/build-wasm.sh');
  run('bash', [path.join(root, 'scripts/build-wasm.sh')], { env: { ...process.env, HEARTH_WASM_BUILDS: 'hearth-cpu hearth-cpu-full hearth hearth-cpu-test' } });
} else {
  console.log('prepare: wasm is fresh');
}

console.log('prepare: tsc');
rmSync(path.join(pkg, 'dist'), { recursive: true, force: true });
run(process.execPath, [path.join(pkg, 'node_modules/typescript/bin/tsc'), '-p', pkg]);

// The example installs the package the way a user gets it: `npm pack`, then the tarball's files
// in node_modules/hearth-ml (the package has no dependencies, so unpacking is the install).
console.log('prepare: npm pack → examples/vite-app/node_modules/hearth-ml');
const packDir = path.join(pkg, '.pack');
rmSync(packDir, { recursive: true, force: true });
mkdirSync(packDir);
const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: pkg, encoding: 'utf8' }).trim().split('\n').pop();
const app = path.join(pkg, 'examples/vite-app');
const dest = path.join(app, 'node_modules/hearth-ml');
rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });
run('tar', ['-xzf', path.join(packDir, out), '-C', dest, '--strip-components=1']);

console.log('prepare: vite build examples/vite-app');
run(process.execPath, [path.join(pkg, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: app });
run(process.execPath, [path.join(pkg, 'scripts/size.mjs')]);
