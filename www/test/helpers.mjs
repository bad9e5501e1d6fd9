// Shared by the shop's end-to-end tests: the built site served on 127.0.0.1 (every request
// logged, HTTP caching off), Debian's Chromium through playwright-core with TOOLCHAIN.md's flags,
// the bundle's own popularity read in Node (the reference for the cold start), and where
// screenshots go (outside git).
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../scripts/serve.mjs';

export const www = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const dist = path.join(www, 'dist');
export { serve };

export const artifacts = process.env.HEARTH_WWW_ARTIFACTS
  ?? path.join(process.env.HEARTH_CACHE ?? path.join(os.homedir(), '.cache/hearth'), 'www-artifacts');
mkdirSync(artifacts, { recursive: true });

export const KITCHEN = 'Kitchen & Dining';

/** Debian's Chromium, headless, with the flags TOOLCHAIN.md lists; `webgpu` adds `--enable-unsafe-webgpu` (SwiftShader adapter). */
export async function launch({ webgpu = false } = {}) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', ...(webgpu ? ['--enable-unsafe-webgpu'] : [])],
  });
}

/** The bundle's manifest and popularity prior, read from the safetensors file the build wrote. */
export function readBundle() {
  const file = path.join(dist, 'shop.hearth');
  if (!existsSync(file)) throw new Error('dist/shop.hearth is missing: `npm test` builds the site first');
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const manifest = JSON.parse(header.__metadata__.hearth);
  const t = header.popularity;
  const start = 8 + n + t.data_offsets[0];
  const pop = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + 8 + n + t.data_offsets[1]));
  const items = manifest.items.map((it, i) => ({ ...it, popularity: pop[i] }));
  return { manifest, items, byId: new Map(items.map((it) => [it.id, it])) };
}

/** A fresh browser context (own IndexedDB, caches, service workers) on the shop, ready. */
export async function open(browser, base, { viewport, hash = '' } = {}) {
  const context = await browser.newContext({ viewport: viewport ?? { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${base}/${hash}`);
  await ready(page);
  return { context, page, errors };
}

/** Waits for the shop to have loaded its model and rendered. */
export async function ready(page) {
  await page.locator('body[data-ready="true"], body[data-error]').waitFor({ timeout: 60000 });
  const err = await page.locator('body').getAttribute('data-error');
  if (err) throw new Error(`the shop failed to start: ${await page.locator('#status').textContent()}`);
}

/** The recommendation cards: `[{ id, category, price, inStock, because }]`, and the list's mode. */
export async function recs(page) {
  return page.locator('#recs').evaluate((ol) => ({
    mode: ol.dataset.mode,
    items: [...ol.querySelectorAll('li.card')].map((li) => ({
      id: li.dataset.id, category: li.dataset.category, price: Number(li.dataset.price),
      inStock: li.dataset.inStock === 'true', because: [...li.querySelectorAll('.because a')].map((a) => decodeURIComponent(a.getAttribute('href').slice(4))),
    })),
  }));
}

/** Waits until the recommendation list's ids differ from `before` (a list of ids). */
export async function recsChangedFrom(page, before) {
  await page.waitForFunction((b) => {
    const ids = [...document.querySelectorAll('#recs li.card')].map((li) => li.dataset.id);
    return ids.length > 0 && ids.join() !== b.join();
  }, before, { timeout: 10000 });
}
