// Profile load time at 100,000 events in headless Chromium (IndexedDB, the package's worker):
// one visitor records 100,000 events through `record()` (each a completed `durability: 'strict'`
// transaction; every PACK_AT-th record packs the loose events into the one-record pack and
// compacts a long pack), then fresh pages (reloads) open the profile (`await shop.profile()`).
// Each fresh page reports apart what comes before the open: `Hearth.init` (the worker) and
// `loadRecommender` (fetching, compiling and instantiating the wasm, parsing the bundle); the
// open is timed alone, and so, in other fresh pages, is the IndexedDB read it does (the pack
// and the loose events, read straight), so the rest is the engine's part (sending the events
// to the worker and folding them in). For comparison, the same 100,000 events written straight
// into the database event by event (as a version without packing left them) and opened once
// (which reads them once and packs them) and again. Prints median, p10 and p90 and the load
// average (this machine is shared: figures under load are slower).
//
//   node benches/browser/profile-load.mjs [--events N] [--pages P]   (needs pkg/dist and pkg/wasm: npm test --prefix pkg builds them)
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch } from '../../pkg/test/helpers/server.mjs';
import { randomBundle } from '../../pkg/test/helpers/bundle.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '../../pkg');
const arg = process.argv.indexOf('--events');
const n = arg > 0 ? Number(process.argv[arg + 1]) : 100_000;
const pagesArg = process.argv.indexOf('--pages');
const REOPENS = pagesArg > 0 ? Number(process.argv[pagesArg + 1]) : 9;
const foldIn = { alpha: 10, lambda: 0.1, halfLifeDays: 14, eventWeights: { view: 0.25, cart: 0.5, purchase: 1 } };
const server = await serve({ '/pkg': pkg }, { '/long.hearth': randomBundle(300, 16, 3, { foldIn }) });
const browser = await launch();
const context = await browser.newContext();
const page = await context.newPage();
await page.goto(server.base + '/');

const setup = `
  const t0ms = performance.now();
  const { Hearth } = await import('/pkg/dist/index.js');
  const t1ms = performance.now();
  const h = await Hearth.init();
  const t2ms = performance.now();
  const shop = await h.loadRecommender('/long.hearth', { name: NAME });
  const before = { importMs: t1ms - t0ms, initMs: t2ms - t1ms, loadMs: performance.now() - t2ms };
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const kinds = ['view', 'view', 'view', 'cart', 'purchase'];
  const t0 = Date.UTC(2026, 0, 1);
  const events = Array.from({ length: N }, (_, i) => ({ item: 'i' + String(Math.floor(rnd() ** 3 * 300)).padStart(5, '0'), event: kinds[Math.floor(rnd() * 5)], ts: t0 + i * 60000 }));
  const storedCount = () => new Promise((res, rej) => {
    const q = indexedDB.open('hearth-ml-profile:' + NAME);
    // the pack's events plus the loose ones
    q.onsuccess = () => {
      const tx = q.result.transaction(['events', 'state']);
      const c = tx.objectStore('events').count(), p = tx.objectStore('state').get('pack');
      tx.oncomplete = () => { q.result.close(); res(c.result + (p.result?.events.length ?? 0)); };
      tx.onerror = () => rej(tx.error);
    };
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
const pages = [];
const reads = [];
const load0 = os.loadavg();
for (let k = 0; k < REOPENS; k++) {
  await page.reload();
  pages.push(await run(`const t = performance.now(); const me = await shop.profile(); return { ...before, openMs: performance.now() - t, events: (await me.events()).length };`, { NAME: 'bench-write', N: 0 }));
  // the open's IndexedDB part alone, in a page of its own (one read warms the next)
  await page.reload();
  reads.push(await page.evaluate(async (name) => {
    const t = performance.now();
    const db = await new Promise((res, rej) => { const q = indexedDB.open(name); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
    const connectMs = performance.now() - t;
    const tx = db.transaction(['events', 'state']);
    const got = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const pack = await got(tx.objectStore('state').get('pack'));
    const loose = await got(tx.objectStore('events').getAll(pack ? IDBKeyRange.lowerBound(pack.upTo, true) : undefined));
    const ms = performance.now() - t;
    db.close();
    return { connectMs, readMs: ms, packed: pack?.events.length ?? 0, loose: loose.length };
  }, 'hearth-ml-profile:bench-write'));
}
const load1 = os.loadavg();

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

const q = (v, p) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))]; };
const stat = (v) => `median ${q(v, 0.5).toFixed(1)} ms (p10 ${q(v, 0.1).toFixed(1)}, p90 ${q(v, 0.9).toFixed(1)})`;
const col = (k, from = pages) => from.map((r) => r[k]);
console.log(`profile load, headless Chromium, IndexedDB, worker engine; ${n} events over 300 items; load average ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);
console.log(`recorded through record(): ${rec.recordMs.toFixed(3)} ms/record (packing and compaction included); store at most ${rec.most} events (entries: the pack's events plus the loose ones), ${rec.stored} at the end; same top-10 as the full history: ${rec.same}`);
console.log(`  ${REOPENS} fresh pages, before the open: import ${stat(col('importMs'))}; Hearth.init (worker) ${stat(col('initMs'))}; loadRecommender (wasm compile + instantiate, bundle) ${stat(col('loadMs'))}`);
console.log(`  profile open (await shop.profile(), ${pages[0].events} events): ${stat(col('openMs'))}`);
console.log(`  of which IndexedDB (connect + pack + ${reads[0].loose} loose events, read straight in other fresh pages): ${stat(col('readMs', reads))}, connect alone ${stat(col('connectMs', reads))}`);
console.log(`written straight into the database (${legacy ? n : 0} raw events): first open (reads and compacts) ${firstOpen.toFixed(0)} ms; next open ${reopen.toFixed(1)} ms`);
await browser.close();
await server.close();
