// Learner open time at 100,000 answers in headless Chromium (IndexedDB, the package's worker),
// with the learning bundle tests/fixtures/education/tracer_sim.hearth (60 questions, 3 topics,
// 6 skills, IRT 2PL). 100,000 answers are written straight into the learner's database (as
// years of answering would leave them: every answer stays stored), then a fresh page opens the
// learner once (it reads and replays every answer, then saves the engine's state beside them),
// and fresh pages (reloads) open it again: they read the saved state and the answers after it
// and replay only those. Then 1,000 more answers through `observe()` (which saves the state every
// SAVE_EVERY answers) and fresh-page opens again. Each fresh page reports apart what comes before
// the open: Hearth.init (the worker) and loadTracer (fetching, compiling and instantiating the
// full CPU wasm, parsing the bundle). Prints median, p10 and p90 and the load average.
//
//   node benches/browser/learner-load.mjs [--answers N] [--pages P]   (needs pkg/dist and pkg/wasm: npm test --prefix pkg builds them)
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve, launch } from '../../pkg/test/helpers/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const pkg = path.join(root, 'pkg');
const opt = (name, d) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : d; };
const n = opt('--answers', 100_000);
const PAGES = opt('--pages', 9);
const server = await serve({ '/pkg': pkg }, { '/sim.hearth': readFileSync(path.join(root, 'tests/fixtures/education/tracer_sim.hearth')) });
const browser = await launch();
const context = await browser.newContext();
const page = await context.newPage();
await page.goto(server.base + '/');

const setup = `
  const t0ms = performance.now();
  const { Hearth } = await import('/pkg/dist/index.js');
  const h = await Hearth.init();
  const t1ms = performance.now();
  const tracer = await h.loadTracer('/sim.hearth', { name: 'bench' });
  const before = { initMs: t1ms - t0ms, loadMs: performance.now() - t1ms };
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const answer = (i) => ({ question: 'Q' + String(Math.floor(rnd() * 60)).padStart(3, '0'), correct: rnd() < 0.6, ts: 1.7e12 + i * 600000 });
`;
const run = (body, args = {}) => page.evaluate(new Function('args', `return (async () => { const { N } = args; ${setup} ${body} })();`), args);
const opens = async () => {
  const out = [];
  for (let k = 0; k < PAGES; k++) {
    await page.reload();
    out.push(await run(`const t = performance.now(); const l = await tracer.learner(); const openMs = performance.now() - t; return { ...before, openMs, answered: l.answered };`));
  }
  return out;
};

// 1. 100,000 answers straight into the database
await run(`
  const l0 = await tracer.learner();
  await l0.clear();
  await l0.observe(answer(0));
  const db = await new Promise((res, rej) => { const q = indexedDB.open('hearth-ml-learner:bench:default'); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
  await new Promise((res, rej) => { const tx = db.transaction('events', 'readwrite'); for (let i = 1; i < N; i++) tx.objectStore('events').add(answer(i)); tx.oncomplete = res; tx.onerror = () => rej(tx.error); });
  db.close();
  return true;
`, { N: n });
const load0 = os.loadavg();
await page.reload();
const first = await run(`const t = performance.now(); const l = await tracer.learner(); return { ms: performance.now() - t, answered: l.answered };`);
await new Promise((r) => setTimeout(r, 1000)); // the state is saved after the open resolves
const restored = await opens();
// 2. 1,000 more answers through observe()
await page.reload();
const more = await run(`
  const l = await tracer.learner();
  for (let i = 0; i < 2000; i++) rnd();
  const t = performance.now();
  for (let i = 0; i < 1000; i++) await l.observe(answer(${n} + i));
  const ms = (performance.now() - t) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  return { ms, answered: l.answered };
`);
const after = await opens();
const load1 = os.loadavg();
await run(`await (await tracer.learner()).clear(); return true;`);

const q = (v, p) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))]; };
const stat = (v) => `median ${q(v, 0.5).toFixed(1)} ms (p10 ${q(v, 0.1).toFixed(1)}, p90 ${q(v, 0.9).toFixed(1)})`;
const col = (rows, k) => rows.map((r) => r[k]);
console.log(`learner open, headless Chromium, IndexedDB, worker engine; tracer_sim.hearth (60 questions); load average ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);
console.log(`${n} answers written straight into the database: first open (reads and replays all, then saves the state) ${first.ms.toFixed(0)} ms (${first.answered} answers)`);
console.log(`  ${PAGES} fresh pages, before the open: Hearth.init (worker) ${stat(col(restored, 'initMs'))}; loadTracer (wasm compile + instantiate, bundle) ${stat(col(restored, 'loadMs'))}`);
console.log(`  learner open (saved state + the answers after it): ${stat(col(restored, 'openMs'))}`);
console.log(`then 1,000 answers through observe(): ${more.ms.toFixed(2)} ms/answer (state saves included); ${PAGES} fresh-page opens (${after[0].answered} answers): ${stat(col(after, 'openMs'))}`);
await browser.close();
await server.close();
