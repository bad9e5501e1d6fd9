// Profile load time at 100,000 events in headless Chromium (IndexedDB, the package's worker):
// one visitor records 100,000 events through `record()` (each a completed `durability: 'strict'`
// transaction; the record that takes the store past COMPACT_ON_WRITE_AT compacts it), then a
// fresh page opens the profile (`await shop.profile()`), timed over several reloads. For
// comparison, the same 100,000 events written straight into the database (as a version without
// compaction on write left them) and opened once (which compacts them) and again.
//
//   node benches/browser/profile-load.mjs [--events N]   (needs pkg/dist and pkg/wasm: npm test --prefix pkg builds them)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch } from '../../pkg/test/helpers/server.mjs';
import { randomBundle } from '../../pkg/test/helpers/bundle.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '../../pkg');
const arg = process.argv.indexOf('--events');
const n = arg > 0 ? Number(process.argv[arg + 1]) : 100_000;
const REOPENS = 7;
const foldIn = { alpha: 10, lambda: 0.1, halfLifeDays: 14, eventWeights: { view: 0.25, cart: 0.5, purchase: 1 } };
const server = await serve({ '/pkg': pkg }, { '/long.hearth': randomBundle(300, 16, 3, { foldIn }) });
const browser = await launch();
const context = await browser.newContext();
const page = await context.newPage();
await page.goto(server.base + '/');

const setup = `
  const { Hearth } = await import('/pkg/dist/index.js');
  const h = await Hearth.init();
  const shop = await h.loadRecommender('/long.hearth', { name: NAME });
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const kinds = ['view', 'view', 'view', 'cart', 'purchase'];
  const t0 = Date.UTC(2026, 0, 1);
  const events = Array.from({ length: N }, (_, i) => ({ item: 'i' + String(Math.floor(rnd() ** 3 * 300)).padStart(5, '0'), event: kinds[Math.floor(rnd() * 5)], ts: t0 + i * 60000 }));
  const storedCount = () => new Promise((res, rej) => {
    const q = indexedDB.open('hearth-ml-profile:' + NAME);
    q.onsuccess = () => { const c = q.result.transaction('events').objectStore('events').count(); c.onsuccess = () => { q.result.close(); res(c.result); }; c.onerror = () => rej(c.error); };
    q.onerror = () => rej(q.error);
  });
`;
const run = (body, args) => page.evaluate(new Function('args', `return (async () => { const { NAME, N } = args; ${setup} ${body} })();`), args);

// 1. recorded through record(): compaction on write keeps the store short
const rec = await run(`
  const me = await shop.profile();
  await me.clear();
  let most = 0;
  const t = performance.now();
  for (let i = 0; i < N; i++) {
    await me.record(events[i]);
    if (i % 500 === 0) most = Math.max(most, await storedCount());
  }
  const recordMs = (performance.now() - t) / N;
  const recs = await shop.recommend({ profile: me, k: 10, now: t0 + N * 60000 });
  const full = await shop.recommend({ events, k: 10, now: t0 + N * 60000 });
  return { recordMs, most, stored: await storedCount(), same: JSON.stringify(recs.map((r) => r.id)) === JSON.stringify(full.map((r) => r.id)) };
`, { NAME: 'bench-write', N: n });
const opens = [];
for (let k = 0; k < REOPENS; k++) {
  await page.reload();
  opens.push(await run(`const t = performance.now(); await shop.profile(); return performance.now() - t;`, { NAME: 'bench-write', N: 0 }));
}

// 2. the same history written straight into the database, opened once (compacts) and again
const legacy = await run(`
  const me0 = await shop.profile();
  await me0.clear();
  await me0.record(events[0]);
  const db = await new Promise((res, rej) => { const q = indexedDB.open('hearth-ml-profile:' + NAME); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
  await new Promise((res, rej) => { const tx = db.transaction('events', 'readwrite'); for (const e of events.slice(1)) tx.objectStore('events').add(e); tx.oncomplete = res; tx.onerror = () => rej(tx.error); });
  db.close();
  return true;
`, { NAME: 'bench-legacy', N: n });
await page.reload();
const firstOpen = await run(`const t = performance.now(); await shop.profile(); return performance.now() - t;`, { NAME: 'bench-legacy', N: 0 });
await page.reload();
const reopen = await run(`const t = performance.now(); await shop.profile(); return performance.now() - t;`, { NAME: 'bench-legacy', N: 0 });
await run(`await (await shop.profile()).clear(); return true;`, { NAME: 'bench-legacy', N: 0 });
await page.reload();
await run(`await (await shop.profile()).clear(); return true;`, { NAME: 'bench-write', N: 0 });

const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
console.log(`profile load, headless Chromium, IndexedDB, worker engine; ${n} events over 300 items`);
console.log(`recorded through record(): ${rec.recordMs.toFixed(3)} ms/record (compaction included); store at most ${rec.most} events, ${rec.stored} at the end; same top-10 as the full history: ${rec.same}`);
console.log(`  open in a fresh page: median ${median(opens).toFixed(1)} ms over ${REOPENS} reloads (min ${Math.min(...opens).toFixed(1)}, max ${Math.max(...opens).toFixed(1)})`);
console.log(`written straight into the database (${legacy ? n : 0} raw events): first open (reads and compacts) ${firstOpen.toFixed(0)} ms; next open ${reopen.toFixed(1)} ms`);
await browser.close();
await server.close();
