// Builds the shop's recommender bundle (public/shop.hearth, never committed) from the real UCI
// Online Retail purchases with the project's own CLI (`hearth recommender build`: implicit ALS).
// The catalog comes from the log itself (most frequent description, median price, keyword
// categories: src/cli/catalog.rs). The source data has no stock information, so
// `--in-stock-days 30` marks an item in stock when it sold in the last 30 days of the log: the
// shop's in-stock filter is derived from real sales, not invented.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const www = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(www, '..');
const env = JSON.parse(execFileSync('bash', ['-c', `source "${root}/scripts/env.sh" >/dev/null && node -p 'JSON.stringify(process.env)'`], { encoding: 'utf8' }));
const events = path.join(env.HEARTH_DATA, 'online-retail/online-retail.csv.gz');
const IN_STOCK_DAYS = 30;

const t0 = Date.now();
mkdirSync(path.join(www, 'public'), { recursive: true });
const out = path.join(www, 'public/shop.hearth');
// the same thin release profile and features as scripts/test.sh (HEARTH_CLI_FEATURES), so both
// share one CLI build
const cargoEnv = { ...env, CARGO_PROFILE_RELEASE_LTO: 'false', CARGO_PROFILE_RELEASE_CODEGEN_UNITS: '16', CARGO_PROFILE_RELEASE_PANIC: 'unwind' };
execFileSync('cargo', ['run', '--quiet', '--release', '--features', env.HEARTH_CLI_FEATURES || 'cli', '--bin', 'hearth', '--manifest-path', path.join(root, 'Cargo.toml'), '--',
  'recommender', 'build', '--events', events, '--in-stock-days', String(IN_STOCK_DAYS), '--out', out, '--attribution', 'online-retail'],
{ stdio: 'inherit', env: cargoEnv });
console.log(`bundle: ${path.relative(root, out)} ${statSync(out).size} B in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
