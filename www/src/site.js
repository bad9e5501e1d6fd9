// What the demo site's two pages (the shop, main.js, and the practice app, practice.js) share:
// the DOM builder, number formats, the privacy panel's live request count and download, the
// attribution read from a bundle, and the service worker's registration.

export const $ = (s, root = document) => root.querySelector(s);

const SVG = new Set(['svg', 'rect', 'line', 'polyline', 'polygon', 'title', 'text']);

/**
 * `el('li', { class, text, dataset, style, onclick, …attributes }, ...children)`: an element
 * (SVG ones in the SVG namespace); false, null and undefined attributes and children are skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const e = SVG.has(tag) ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.setAttribute('class', v);
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    // through the CSSOM: a style attribute would need 'unsafe-inline' under the README's CSP
    else if (k === 'style') for (const d of v.split(';')) { const i = d.indexOf(':'); if (i > 0) e.style.setProperty(d.slice(0, i).trim(), d.slice(i + 1).trim()); }
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false));
  return e;
}

export const ms = (x) => (x < 10 ? x.toFixed(2) : x.toFixed(1)) + ' ms';
export const bytes = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} KB`);

/**
 * Shows in #request-count / #request-list the Resource Timing entries since `since` (ms, when the
 * model loaded): requests this page made. The browser's own re-requests of the page icon (on
 * navigation; the service worker answers them from its precache) are not the page's and are
 * left out.
 */
export function showRequests(since) {
  const icon = document.querySelector('link[rel="icon"]')?.href;
  const list = performance.getEntriesByType('resource').filter((e) => e.startTime >= since && e.name !== icon);
  const c = $('#request-count');
  c.textContent = String(list.length);
  c.dataset.count = String(list.length);
  $('#request-list').textContent = list.length ? `Requests: ${list.map((e) => new URL(e.name).pathname).join(', ')}` : 'Counted with the browser\'s Resource Timing API.';
}

/** Offers `json` as a download named `filename` (nothing leaves the device). */
export function download(json, filename) {
  const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const a = el('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Replaces the footer's #attribution list with the bundle's own lines. */
export function showAttribution(lines) {
  if (!lines?.length) return;
  const ul = $('#attribution');
  ul.dataset.from = 'bundle';
  ul.replaceChildren(...lines.map((l) => el('li', { text: l })));
}

/** Registers the site's service worker (the app shell offline); `'ready'`, `'none'` (dev server, no support) or `'failed'`. */
export async function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return 'none';
  try {
    await navigator.serviceWorker.register('./sw.js');
    await navigator.serviceWorker.ready;
    return 'ready';
  } catch (e) {
    console.warn('service worker not registered:', e);
    return 'failed';
  }
}
