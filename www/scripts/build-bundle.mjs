// Builds the demo site's two bundles with the project's own CLI (never committed):
// - public/shop.hearth, the shop's recommender, from the real UCI Online Retail purchases
//   (`hearth recommender build`: implicit ALS);
// - public/practice.hearth, the practice app's learning bundle, from the real MathE answers
//   (`hearth tracer build --format mathe`: the question bank with its topics, subtopics, levels
//   and keywords, item parameters fitted from the 9,546 answers, and the dataset's attribution);
// - public/propensity.onnx, the shop's purchase-propensity model, trained on the real UCI Online
//   Shoppers sessions (`tools/shop_propensity.py`: scikit-learn, exported by skl2onnx with one
//   input per column) with its feature spec (models/propensity.spec.json) checked against it and
//   embedded in its metadata by `hearth spec --embed`, so `model.predict({...})` reads it.
// The catalog comes from the log itself (most frequent description, median price, keyword
// categories: src/cli/catalog.rs). The source data has no stock information, so
// `--in-stock-days 30` marks an item in stock when it sold in the last 30 days of the log: the
// shop's in-stock filter is derived from real sales, not invented.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const www = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(www, '..');
const env = JSON.parse(execFileSync('bash', ['-c', `source "${root}/scripts/env.sh" >/dev/null && node -p 'JSON.stringify(process.env)'`], { encoding: 'utf8' }));
const events = path.join(env.HEARTH_DATA, 'online-retail/online-retail.csv.gz');
const answers = path.join(env.HEARTH_DATA, 'mathe/mathe.csv');
const shoppers = path.join(env.HEARTH_DATA, 'online-shoppers/online_shoppers_intention.csv');
const IN_STOCK_DAYS = 30;

const t0 = Date.now();
mkdirSync(path.join(www, 'public'), { recursive: true });
const out = path.join(www, 'public/shop.hearth');
// the same thin release profile and features as scripts/test.sh (HEARTH_CLI_FEATURES), so both
// share one CLI build
const cargoEnv = { ...env, CARGO_PROFILE_RELEASE_LTO: 'false', CARGO_PROFILE_RELEASE_CODEGEN_UNITS: '16', CARGO_PROFILE_RELEASE_PANIC: 'unwind' };
const hearth = (...args) => execFileSync('cargo', ['run', '--quiet', '--release', '--features', env.HEARTH_CLI_FEATURES || 'cli', '--bin', 'hearth', '--manifest-path', path.join(root, 'Cargo.toml'), '--', ...args],
  { stdio: 'inherit', env: cargoEnv });
hearth('recommender', 'build', '--events', events, '--in-stock-days', String(IN_STOCK_DAYS), '--out', out, '--attribution', 'online-retail');
console.log(`bundle: ${path.relative(root, out)} ${statSync(out).size} B in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const t1 = Date.now();
const practice = path.join(www, 'public/practice.hearth');
hearth('tracer', 'build', '--answers', answers, '--format', 'mathe', '--out', practice, '--attribution', 'mathe');
console.log(`bundle: ${path.relative(root, practice)} ${statSync(practice).size} B in ${((Date.now() - t1) / 1000).toFixed(1)} s`);

const t2 = Date.now();
const trained = path.join(www, 'public/propensity.trained.onnx');
execFileSync('python3', [path.join(root, 'tools/shop_propensity.py'), trained, shoppers], { stdio: 'inherit', env });
const propensity = path.join(www, 'public/propensity.onnx');
hearth('spec', trained, '--spec', path.join(www, 'models/propensity.spec.json'), '--embed', propensity);
rmSync(trained);
console.log(`model: ${path.relative(root, propensity)} ${statSync(propensity).size} B in ${((Date.now() - t2) / 1000).toFixed(1)} s`);
