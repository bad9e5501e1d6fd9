// Generates tests/fixtures/education/eap_jscat_reference.json: EAP ability estimates by jsCAT
// (@bdelab/jscat 5.2.3, the Yeatman lab's computerised-adaptive-testing library), the
// reference for irt::Ability in tests/education.rs.
//
// jsCAT depends on `optimization-js` from GitHub (not the npm registry); it is used only by the
// MLE estimator, never by EAP, so where GitHub is unreachable a stub stands in for it:
//   D=/root/.cache/hearth-edu/jscat-run
//   npm install --prefix $D lodash@4 binary-search@1 seedrandom@3
//   (cd $D && npm pack @bdelab/jscat@5.2.3 && mkdir -p node_modules/@bdelab/jscat \
//      && tar xzf bdelab-jscat-5.2.3.tgz -C node_modules/@bdelab/jscat --strip-components 1)
//   mkdir -p $D/node_modules/optimization-js && echo \
//     'exports.minimize_Powell = () => { throw new Error("stub") }' > $D/node_modules/optimization-js/index.js
//   JSCAT=$D/node_modules/@bdelab/jscat node tools/gen_eap_reference.mjs \
//     > tests/fixtures/education/eap_jscat_reference.json
//
// jsCAT's EAP: a N(0, 1) prior on the grid -6, -5.9, …, 6 (lodash `range`, step 0.1, 121
// points), theta = Σ θ L(θ) p(θ) / Σ L(θ) p(θ) (rectangle rule); its standard error is
// 1 / sqrt(Σ_i I_i(theta)) with the item information at the estimate (not the posterior SD).
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const jscatPath = process.env.JSCAT ?? '/root/.cache/hearth-edu/jscat-run/node_modules/@bdelab/jscat';
const { Cat } = require(jscatPath);
const version = require(`${jscatPath}/package.json`).version;

// mulberry32: a small seeded PRNG.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(42);
const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const round = (x) => Number(x.toPrecision(10));

const cases = [];
for (let k = 0; k < 30; k++) {
  const n = 1 + (k % 25);
  const theta = 1.5 * normal();
  const items = [];
  const answers = [];
  for (let i = 0; i < n; i++) {
    const a = round(Math.exp(0.4 * normal()));
    const b = round(2 * normal());
    const p = 1 / (1 + Math.exp(-a * (theta - b)));
    items.push([a, b]);
    answers.push(rand() < p ? 1 : 0);
  }
  const cat = new Cat({ method: 'EAP' });
  cat.updateAbilityEstimate(items.map(([a, b]) => ({ a, b, c: 0, d: 1 })), answers);
  cases.push({ items, answers, theta: cat.theta, se: cat.seMeasurement });
}
process.stdout.write(
  JSON.stringify({ generator: `tools/gen_eap_reference.mjs with @bdelab/jscat ${version}`, grid: [-6, 6, 121], cases }) + '\n'
);
