// Builds the shop's recommender bundle (public/shop.hearth, never committed) from the real UCI
// Online Retail purchases with the project's own CLI (`hearth recommender build`: implicit ALS).
//
// The catalog is written here first (.build/catalog.csv) because the source data has no stock
// information: an item counts as in stock when it sold in the last 30 days of the log (on or
// after 2011-11-09), so the shop's in-stock filter is derived from real sales, not invented.
// Names (most frequent description), median prices and the product filter (five-digit stock
// codes, no cancellations, quantity and price > 0, a known customer) follow the CLI's own rules
// (src/cli/events.rs, src/cli/catalog.rs); the category column is left empty so the CLI's
// keyword categories apply.
import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const www = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(www, '..');
const env = JSON.parse(execFileSync('bash', ['-c', `source "${root}/scripts/env.sh" >/dev/null && node -p 'JSON.stringify(process.env)'`], { encoding: 'utf8' }));
const events = path.join(env.HEARTH_DATA, 'online-retail/online-retail.csv.gz');
const IN_STOCK_DAYS = 30;

/** Splits CSV text into rows (RFC 4180 quoting: "a, b" and "" inside quotes). */
function* rows(text) {
  let i = 0;
  const n = text.length;
  while (i < n) {
    const row = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          field += text.slice(i, q);
          i = q + 1;
          if (text[i] === '"') { field += '"'; i++; } else break;
        }
      } else {
        let j = i;
        while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
        field = text.slice(i, j);
        i = j;
      }
      row.push(field);
      if (text[i] === ',') { i++; continue; }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      break;
    }
    yield row;
  }
}

function catalog() {
  const text = gunzipSync(readFileSync(events)).toString('utf8');
  const it = rows(text);
  const header = it.next().value;
  const c = Object.fromEntries(header.map((h, k) => [h, k]));
  const items = new Map();
  let latest = '';
  for (const r of it) {
    const code = r[c.StockCode]?.trim() ?? '';
    if (!r[c.CustomerID]?.trim() || r[c.InvoiceNo].startsWith('C') || !/^\d{5}/.test(code)) continue;
    const price = Number(r[c.UnitPrice]);
    if (!(Number(r[c.Quantity]) > 0) || !(price > 0)) continue;
    let s = items.get(code);
    if (!s) items.set(code, (s = { names: new Map(), prices: [], last: '' }));
    const d = r[c.Description].trim();
    if (d) s.names.set(d, (s.names.get(d) ?? 0) + 1);
    s.prices.push(price);
    const t = r[c.InvoiceDate];
    if (t > s.last) s.last = t;
    if (t > latest) latest = t;
  }
  const cutoff = new Date(Date.parse(latest.slice(0, 10) + 'T00:00:00Z') - IN_STOCK_DAYS * 86400000).toISOString().slice(0, 10);
  const q = (s) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['id,name,category,price,in_stock'];
  let inStock = 0;
  for (const [id, s] of [...items].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    // most frequent description; on a tie the alphabetically first (as the CLI does)
    const name = [...s.names].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? '';
    const p = Float32Array.from(s.prices).sort();
    const price = Math.round(p[p.length >> 1] * 100) / 100;
    const stock = s.last >= cutoff;
    inStock += stock;
    lines.push([q(id), q(name), '', price, stock ? 1 : 0].join(','));
  }
  console.log(`catalog: ${items.size} products, ${inStock} in stock (sold on or after ${cutoff}; the log ends ${latest})`);
  return lines.join('\n') + '\n';
}

const t0 = Date.now();
mkdirSync(path.join(www, '.build'), { recursive: true });
mkdirSync(path.join(www, 'public'), { recursive: true });
const catalogFile = path.join(www, '.build/catalog.csv');
writeFileSync(catalogFile, catalog());
const out = path.join(www, 'public/shop.hearth');
// the same thin release profile as scripts/test.sh, so both share one CLI build
const cargoEnv = { ...env, CARGO_PROFILE_RELEASE_LTO: 'false', CARGO_PROFILE_RELEASE_CODEGEN_UNITS: '16' };
execFileSync('cargo', ['run', '--quiet', '--release', '--features', 'cli', '--bin', 'hearth', '--manifest-path', path.join(root, 'Cargo.toml'), '--',
  'recommender', 'build', '--events', events, '--catalog', catalogFile, '--out', out, '--attribution', 'online-retail'],
{ stdio: 'inherit', env: cargoEnv });
console.log(`bundle: ${path.relative(root, out)} ${statSync(out).size} B in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
