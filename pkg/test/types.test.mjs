// The generated declarations (dist/*.d.ts) type-check a user's code: `import 'hearth-ml'` resolves
// through package.json's exports to dist/index.d.ts (self-reference), no skipLibCheck, and misuse
// (an unknown backend, calling a constructor) is a type error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('the .d.ts files type-check a consumer and reject misuse', () => {
  const r = spawnSync(process.execPath, [path.join(pkg, 'node_modules/typescript/bin/tsc'), '-p', path.join(pkg, 'test/fixtures')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
