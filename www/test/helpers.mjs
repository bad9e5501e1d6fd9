// Shared by the shop's end-to-end tests: the built site served on 127.0.0.1 (every request
// logged, HTTP caching off), Debian's Chromium through playwright-core with TOOLCHAIN.md's flags,
// the bundle's own popularity read in Node (the reference for the cold start), and where
// screenshots go (outside git).
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../scripts/serve.mjs';
import { exercise } from '../src/exercises.js';

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

/**
 * The practice app's learning bundle (dist/practice.hearth), read in Node from the safetensors
 * file the CLI wrote: the manifest and every question's item parameters as the engine uses them
 * (IRT b and a where fitted; otherwise the Elo rating, a = 1).
 */
export function readTracerBundle() {
  const file = path.join(dist, 'practice.hearth');
  if (!existsSync(file)) throw new Error('dist/practice.hearth is missing: `npm test` builds the site first');
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const manifest = JSON.parse(header.__metadata__.hearth);
  const tensor = (name, Type) => {
    const t = header[name];
    if (!t) return undefined;
    const start = 8 + n + t.data_offsets[0];
    return new Type(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + 8 + n + t.data_offsets[1]));
  };
  const b = tensor('irt_difficulty', Float64Array), a = tensor('irt_discrimination', Float64Array);
  const fitted = tensor('irt_fitted', Uint8Array), elo = tensor('elo_rating', Float64Array);
  const questions = manifest.questions.map((q, i) => ({
    ...q,
    fitted: Boolean(b && (!fitted || fitted[i])),
    difficulty: b && (!fitted || fitted[i]) ? b[i] : elo?.[i] ?? 0,
    discrimination: a && (!fitted || fitted[i]) ? a[i] : 1,
  }));
  return { manifest, questions, byId: new Map(questions.map((q) => [q.id, q])) };
}

/**
 * An independent reference for the engine's IRT learner: the ability posterior on a grid (61
 * points on [−5, 5], N(0, 1) prior) after `answers` ([{ id, correct }]) to fitted questions of
 * `bundle`; `{ mean, sd }` (EAP) and `p(q)`, the posterior-predictive P(correct) by the probit
 * approximation σ(a(μ − b)/√(1 + πa²s²/8)), and `info(q)`, a²P(1 − P) at the mean.
 */
export function referenceLearner(bundle, answers, only = () => true) {
  const G = Array.from({ length: 61 }, (_, i) => -5 + i / 6);
  const logp = G.map((t) => -t * t / 2);
  for (const { id, correct } of answers) {
    const q = bundle.byId.get(id);
    if (!q.fitted || !only(q)) continue;
    G.forEach((t, i) => {
      const p = 1 / (1 + Math.exp(-q.discrimination * (t - q.difficulty)));
      logp[i] += Math.log(correct ? p : 1 - p);
    });
  }
  const top = Math.max(...logp);
  const w = logp.map((l) => Math.exp(l - top));
  const s = w.reduce((x, y) => x + y, 0);
  const mean = w.reduce((x, y, i) => x + y * G[i], 0) / s;
  const sd = Math.sqrt(w.reduce((x, y, i) => x + y * (G[i] - mean) ** 2, 0) / s);
  const sig = (z) => 1 / (1 + Math.exp(-z));
  return {
    mean, sd,
    p: (q) => sig(q.discrimination * (mean - q.difficulty) / Math.sqrt(1 + Math.PI * q.discrimination ** 2 * sd * sd / 8)),
    info: (q) => { const p = sig(q.discrimination * (mean - q.difficulty)); return q.discrimination ** 2 * p * (1 - p); },
  };
}

/** A fresh browser context on the practice app (practice.html), ready. */
export async function openPractice(browser, base, { viewport } = {}) {
  const context = await browser.newContext({ viewport: viewport ?? { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${base}/practice.html`);
  await ready(page);
  return { context, page, errors };
}

/** The form controls of the page without an accessible name (label, aria-label, or a button's text). */
export function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll('input, select, button, textarea')].filter((e) => {
    const label = (e.id && document.querySelector(`label[for="${e.id}"]`)) || e.closest('label');
    const name = e.getAttribute('aria-label') || (label && label.textContent.trim()) || (e.tagName === 'BUTTON' && e.textContent.trim());
    return !name;
  }).map((e) => e.outerHTML));
}

/** Visible text below WCAG AA's 4.5:1 against the background it is drawn on: `['TAG.class "text" ratio', …]`. */
export function lowContrast(page) {
  return page.evaluate(() => {
    const rgb = (s) => (s.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const bg = (e) => {
      for (let x = e; x; x = x.parentElement) {
        const s = getComputedStyle(x);
        if (s.backgroundImage !== 'none') return null; // gradients (the swatches) are decoration, aria-hidden
        const c = rgb(s.backgroundColor);
        if (c.length === 3 || c[3] > 0) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const out = [];
    const seen = new Set();
    for (const e of document.querySelectorAll('body *')) {
      if (![...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
      if (e.closest('[aria-hidden="true"], .sr-only, .skip') || !e.getClientRects().length) continue;
      const b = bg(e);
      if (!b) continue;
      const fg = rgb(getComputedStyle(e).color).slice(0, 3);
      const [l1, l2] = [lum(fg), lum(b)].sort((x, y) => y - x);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const key = `${fg}|${b}`;
      if (ratio < 4.5 && !seen.has(key)) {
        seen.add(key);
        out.push(`${e.tagName}.${e.getAttribute('class') ?? ''} "${e.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
      }
    }
    return out;
  });
}

/** The shown exercise's answer (right, or off by one), computed from the page's data by the test. */
export async function solution(page, correct = true) {
  const q = await page.locator('#question').evaluate((e) => ({ ...e.dataset }));
  const ex = exercise({ id: q.id, subtopic: q.skill, level: Number(q.level) }, Number(q.variant));
  return String(correct ? ex.answer : ex.answer + 1);
}

/** Answers `n` practice questions through the page (every third one wrong). */
export async function answerSome(page, n) {
  for (let i = 0; i < n; i++) {
    const before = Number(await page.locator('#answer-count').getAttribute('data-count'));
    await page.locator('#answer').fill(await solution(page, i % 3 !== 2));
    await page.locator('#check').click();
    await page.waitForFunction((k) => Number(document.querySelector('#answer-count').dataset.count) === k, before + 1);
  }
}
