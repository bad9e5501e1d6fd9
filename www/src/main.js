// The shop: hash routes (#/ home, #/p/<id> product, #/cart), a catalog grid with search and
// category filter, "Recommended for you" and "Similar items" computed by hearth-ml in a Web
// Worker on this device, and the privacy and engine panels. Every number the panels show is
// measured here (performance.now, Resource Timing), none is a constant.
import { BUNDLE, Engine, switchBackend } from './engine.js';
import { $, el, ms, bytes, showRequests, download, showAttribution, registerServiceWorker } from './site.js';

const CART_KEY = 'hearth-shop-cart';
const PAGE = 48;

const state = { diversity: 0, inStock: false, priceMin: '', priceMax: '', category: '', query: '', shown: PAGE };
let engine;
let catalog = []; // every item, most bought first (the bundle's popularity prior)
const byId = new Map();
let events = [];
let clickAt; // performance.now() of the click whose result is being rendered
// this visit, as the propensity model reads a session: product pages and the time on them, cart views
const visit = { start: Date.now(), returning: false, productViews: 0, productMs: 0, onProductSince: 0, cartViews: 0 };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'June', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
let routed = 0;

// ---------- small helpers ----------

const SMALL = new Set(['OF', 'AND', 'THE', 'IN', 'WITH', 'A', 'FOR', 'TO', 'ON']);
/** "WHITE HANGING HEART T-LIGHT HOLDER" → "White Hanging Heart T-Light Holder". */
function title(name = '') {
  return name.toLowerCase().split(/\s+/).filter(Boolean)
    .map((w, i) => (i > 0 && SMALL.has(w.toUpperCase()) ? w : w.replace(/(^|[-/(])(\p{L})/gu, (m, a, b) => a + b.toUpperCase())))
    .join(' ');
}
const money = (p) => (typeof p === 'number' ? `£${p.toFixed(2)}` : '—');
function hue(category = '') {
  let h = 0;
  for (const c of category) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
}
function setStatus(text) {
  $('#status').textContent = text;
}

// ---------- cart (localStorage, on this device too) ----------

function cart() {
  try {
    return JSON.parse(localStorage.getItem(CART_KEY)) ?? {};
  } catch {
    return {};
  }
}
function saveCart(c) {
  localStorage.setItem(CART_KEY, JSON.stringify(c));
  renderCartCount();
}
function renderCartCount() {
  const n = Object.values(cart()).reduce((a, b) => a + b, 0);
  $('#cart-count').textContent = String(n);
  $('#cart-count').setAttribute('aria-label', `${n} items in cart`);
}

// ---------- events (the profile) ----------

/**
 * Records an interaction. The engine call is posted at once (before this returns its promise),
 * so a recommend() issued right after is computed with the event in the profile: the worker
 * answers calls in order. The IndexedDB write finishes in the background of that.
 */
/** Records not yet stored: a new engine (the backend toggle) waits for them before it reads the profile. */
const storing = new Set();

function record(id, kind) {
  const done = engine.me.record({ item: id, event: kind });
  storing.add(done);
  done.finally(() => storing.delete(done)).catch(() => {});
  events.push({ item: id, event: kind, ts: Date.now() });
  renderPrivacy();
  return done;
}

// ---------- cards ----------

function card(item, because = [], extra = {}) {
  const name = title(item.name);
  return el('li', { class: 'card', dataset: { id: item.id, category: item.category ?? '', price: String(item.price ?? ''), inStock: String(item.inStock !== false), ...extra } },
    el('a', { href: `#/p/${encodeURIComponent(item.id)}`, class: 'card-link' },
      el('span', { class: 'swatch', style: `--h:${hue(item.category)}`, 'aria-hidden': 'true', text: name.charAt(0) }),
      el('span', { class: 'name', text: name })),
    el('span', { class: 'meta' },
      el('span', { text: item.category ?? '' }), ' · ', el('span', { class: 'price', text: money(item.price) }),
      item.inStock === false ? el('span', { class: 'sold-out', text: ' · sold out' }) : null),
    because.length
      ? el('span', { class: 'because' }, 'Because you viewed ', because.map((b, i) => [i ? ', ' : '', el('a', { href: `#/p/${encodeURIComponent(b)}`, text: title(byId.get(b)?.name ?? b) })]))
      : null);
}

// ---------- recommendations ----------

function recSection() {
  const numberInput = (id, label, key) => el('label', { for: id }, label,
    el('input', { id, type: 'number', min: '0', step: '0.5', inputmode: 'decimal', value: state[key], oninput: (e) => { state[key] = e.target.value; rerender(); } }));
  const out = el('output', { id: 'diversity-out', for: 'diversity', text: state.diversity.toFixed(1) });
  return el('section', { class: 'recs', 'aria-labelledby': 'recs-h' },
    el('div', { class: 'section-head' },
      el('h2', { id: 'recs-h', text: 'Recommended for you' }),
      el('p', { id: 'recs-note', class: 'small' })),
    el('form', { class: 'controls', id: 'rec-controls', onsubmit: (e) => e.preventDefault() },
      el('label', { for: 'diversity' }, 'Diversity ',
        el('input', { id: 'diversity', type: 'range', min: '0', max: '1', step: '0.1', value: String(state.diversity),
          oninput: (e) => { state.diversity = Number(e.target.value); out.textContent = state.diversity.toFixed(1); rerender(); } }), out),
      el('label', { for: 'in-stock', class: 'check' },
        el('input', { id: 'in-stock', type: 'checkbox', checked: state.inStock, onchange: (e) => { state.inStock = e.target.checked; rerender(); } }), ' In stock only'),
      numberInput('price-min', 'Min £ ', 'priceMin'),
      numberInput('price-max', 'Max £ ', 'priceMax')),
    el('ol', { class: 'grid', id: 'recs', 'aria-labelledby': 'recs-h' }));
}

function recOptions() {
  const filter = {};
  if (state.inStock) filter.inStock = true;
  if (state.priceMin !== '' && Number.isFinite(Number(state.priceMin))) filter.priceMin = Number(state.priceMin);
  if (state.priceMax !== '' && Number.isFinite(Number(state.priceMax))) filter.priceMax = Number(state.priceMax);
  return { k: 10, filter, diversity: state.diversity, explain: 2 };
}

async function renderRecs() {
  // the list of the page this call was made for: a later navigation replaces it, and this
  // (older) result must not land in the next page's list
  const ol = $('#recs');
  const { list, ms: took } = await engine.recommend(recOptions());
  if (!ol?.isConnected) return;
  showLatency(took);
  const personal = events.length > 0;
  ol.dataset.mode = personal ? 'personal' : 'popular';
  $('#recs-h').textContent = personal ? 'Recommended for you' : 'Popular right now';
  $('#recs-note').textContent = personal
    ? `From your ${events.length} event${events.length === 1 ? '' : 's'}, computed on this device in ${ms(took)}.`
    : `You are new here: these are the shop's most-bought products. View a few and this list becomes yours, computed on this device (${ms(took)}).`;
  ol.replaceChildren(...list.map((r) => card(r.item ?? byId.get(r.id), r.because)));
  if (!list.length) ol.append(el('li', { class: 'empty', text: 'Nothing matches these filters.' }));
}

/** Re-renders what a control changed and measures input → updated list. */
async function rerender() {
  clickAt = performance.now();
  await renderRecs();
  showUpdate();
}

function showLatency(took) {
  const l = $('#latency');
  l.textContent = `${ms(took)} (${engine.backend.toUpperCase()})`;
  l.dataset.ms = String(took);
}
function showUpdate() {
  if (clickAt === undefined) return;
  const d = performance.now() - clickAt;
  const u = $('#update-latency');
  u.textContent = ms(d);
  u.dataset.ms = String(d);
  clickAt = undefined;
}

// ---------- pages ----------

function homePage() {
  const select = el('select', { id: 'category', onchange: (e) => { state.category = e.target.value; state.shown = PAGE; renderCatalog(); } },
    el('option', { value: '', text: 'All categories' }),
    (engine.shop.info.categories ?? []).slice().sort().map((c) => el('option', { value: c, text: c, selected: c === state.category })));
  $('#view').replaceChildren(
    recSection(),
    el('section', { class: 'all', 'aria-labelledby': 'all-h' },
      el('div', { class: 'section-head' }, el('h2', { id: 'all-h', tabindex: '-1', text: 'All products' }),
        el('p', { class: 'small', text: 'Most bought first.' })),
      el('div', { class: 'controls' }, el('label', { for: 'category' }, 'Category ', select),
        el('span', { id: 'match-count', class: 'small', role: 'status' })),
      el('ul', { class: 'grid', id: 'catalog', 'aria-labelledby': 'all-h' }),
      el('button', { type: 'button', id: 'more', onclick: () => { state.shown += PAGE; renderCatalog(); } }, 'Show more')));
  renderCatalog();
  return renderRecs();
}

function matches() {
  const q = state.query.trim().toLowerCase();
  return catalog.filter((it) => (!state.category || it.category === state.category)
    && (!q || it.name?.toLowerCase().includes(q) || it.id.toLowerCase() === q));
}

function renderCatalog() {
  const ul = $('#catalog');
  if (!ul) return;
  const m = matches();
  ul.replaceChildren(...m.slice(0, state.shown).map((it) => card(it)));
  $('#match-count').textContent = `${m.length} product${m.length === 1 ? '' : 's'}${state.query ? ` matching “${state.query}”` : ''}`;
  $('#more').hidden = m.length <= state.shown;
}

async function productPage(id) {
  const item = byId.get(id);
  if (!item) {
    $('#view').replaceChildren(el('h1', { tabindex: '-1', text: 'No such product' }), el('p', {}, el('a', { href: '#/', text: 'Back to the shop' })));
    return;
  }
  const inCart = cart()[id] ?? 0;
  $('#view').replaceChildren(
    el('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, el('a', { href: '#/', text: 'Shop' }), ' › ', el('span', { text: item.category })),
    el('article', { class: 'product', dataset: { id } },
      el('span', { class: 'swatch big', style: `--h:${hue(item.category)}`, 'aria-hidden': 'true', text: title(item.name).charAt(0) }),
      el('div', {},
        el('h1', { tabindex: '-1', text: title(item.name) }),
        el('p', { class: 'price big-price', text: money(item.price) }),
        el('p', { class: 'small' }, `${item.category} · stock code ${item.id} · `, item.inStock === false ? 'sold out (no sales in the last 30 days)' : 'in stock'),
        el('button', { type: 'button', id: 'add-to-cart', class: 'primary', disabled: item.inStock === false,
          onclick: async (e) => {
            const c = cart();
            c[id] = (c[id] ?? 0) + 1;
            saveCart(c);
            e.target.textContent = `In cart (${c[id]}) — add another`;
            clickAt = performance.now();
            const recorded = record(id, 'cart');
            await renderRecs();
            showUpdate();
            await recorded;
          } }, inCart ? `In cart (${inCart}) — add another` : 'Add to cart'))),
    recSection(),
    el('section', { class: 'similar', 'aria-labelledby': 'similar-h' },
      el('div', { class: 'section-head' }, el('h2', { id: 'similar-h', text: 'Similar items' }),
        el('p', { class: 'small', text: 'Bought by the same customers (item-to-item, computed on this device).' })),
      el('ol', { class: 'grid', id: 'similar', 'aria-labelledby': 'similar-h' })));
  const recorded = record(id, 'view');
  await Promise.all([renderRecs(), renderSimilar(id)]);
  showUpdate();
  await recorded;
}

async function renderSimilar(id) {
  const ol = $('#similar');
  const list = await engine.shop.similar(id, { k: 6, filter: recOptions().filter });
  if (ol?.isConnected) ol.replaceChildren(...list.map((r) => card(r.item ?? byId.get(r.id))));
}

function cartPage() {
  const c = cart();
  const lines = Object.entries(c).filter(([id]) => byId.has(id));
  const total = lines.reduce((a, [id, n]) => a + n * (byId.get(id).price ?? 0), 0);
  $('#view').replaceChildren(
    el('h1', { tabindex: '-1', text: 'Your cart' }),
    lines.length
      ? el('div', {},
        el('ul', { class: 'cart-lines', id: 'cart-lines' }, lines.map(([id, n]) => el('li', { dataset: { id } },
          el('a', { href: `#/p/${encodeURIComponent(id)}`, text: title(byId.get(id).name) }), ` × ${n} · ${money(n * byId.get(id).price)} `,
          el('button', { type: 'button', 'aria-label': `Remove ${title(byId.get(id).name)}`, onclick: () => { const d = cart(); delete d[id]; saveCart(d); cartPage(); } }, 'Remove')))),
        el('p', { class: 'big-price', text: `Total ${money(total)}` }),
        el('button', { type: 'button', id: 'checkout', class: 'primary', onclick: async () => {
          for (const [id] of lines) await record(id, 'purchase');
          saveCart({});
          $('#view').replaceChildren(el('h1', { tabindex: '-1', text: 'Thank you!' }),
            el('p', { text: 'This is a demo: no order was sent anywhere. Your purchases are now part of your profile on this device and shape your recommendations.' }),
            el('p', {}, el('a', { href: '#/', text: 'Back to the shop' })));
        } }, 'Place order (demo)'))
      : el('p', {}, 'Your cart is empty. ', el('a', { href: '#/', text: 'Browse the shop' })));
}

async function route() {
  const h = location.hash || '#/';
  const first = routed++ === 0;
  if (visit.onProductSince) visit.productMs += Date.now() - visit.onProductSince;
  visit.onProductSince = h.startsWith('#/p/') ? Date.now() : 0;
  if (h.startsWith('#/p/')) visit.productViews++;
  else if (h === '#/cart') visit.cartViews++;
  if (h.startsWith('#/p/')) await productPage(decodeURIComponent(h.slice(4)));
  else if (h === '#/cart') cartPage();
  else await homePage();
  showUpdate();
  if (!first) $('#view h1, #view h2[tabindex]')?.focus({ preventScroll: false });
  await renderPropensity();
}

/** The features of this visit, named as the model's feature spec (www/models/propensity.spec.json) names them. */
function visitFeatures() {
  const now = new Date();
  const onProduct = visit.onProductSince ? Date.now() - visit.onProductSince : 0;
  return {
    productViews: visit.productViews,
    productSeconds: Math.round((visit.productMs + onProduct) / 1000),
    cartViews: visit.cartViews,
    month: MONTHS[now.getMonth()],
    visitorType: visit.returning ? 'Returning_Visitor' : 'New_Visitor',
    weekend: now.getDay() === 0 || now.getDay() === 6,
  };
}

/** "Likely to buy": the model's P(purchase) for this visit, from model.predict() on this device. */
async function renderPropensity() {
  const features = visitFeatures();
  const { probabilities } = await engine.propensity.predict(features);
  const p = probabilities['1'];
  const dd = $('#propensity-p');
  dd.textContent = p.toFixed(2);
  dd.dataset.p = String(p);
  const panel = $('#propensity');
  panel.dataset.features = JSON.stringify(features);
  $('#propensity-features').replaceChildren(...Object.entries(features).flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })]));
}

// ---------- panels ----------

function renderPrivacy() {
  const n = $('#event-count');
  n.textContent = String(events.length);
  n.dataset.count = String(events.length);
  $('#event-list').replaceChildren(...events.slice(-5).reverse().map((e) => el('li', {},
    el('strong', { text: e.event }), ` ${title(byId.get(e.item)?.name ?? e.item)} · ${new Date(e.ts).toLocaleTimeString()}`)));
}

/** The privacy panel's count of requests since the running engine loaded the model. */
function renderRequests() {
  if (engine) showRequests(engine.load.loadedAt);
}

function renderEngine() {
  const e = engine;
  const info = e.shop.info;
  const b = $('#backend');
  const where = e.hearth.worker ? ', in a Web Worker' : ', on the page\'s thread';
  b.textContent = `${e.backend === 'webgpu' ? `WebGPU — ${e.hearth.adapter}` : 'CPU — WebAssembly SIMD128'}${where}`;
  b.dataset.backend = e.backend;
  // why this backend: auto's timed probe ("cpu: 0.08 ms vs 2.1 ms on the GPU"), no adapter, a lost device
  $('#backend-reason').textContent = e.backendReason ? ` (${e.backendReason})` : '';
  $('#model-info').textContent = `${info.numItems.toLocaleString('en')} items × ${info.dim} dims, ${info.dtype} table, implicit ALS`;
  $('#model-size').textContent = `${bytes(BUNDLE.size)} (${BUNDLE.size.toLocaleString('en')} B), ready in ${ms(e.load.ms)}`;
  const c = $('#cache-status');
  c.dataset.cache = e.load.downloaded ? 'network' : 'cache';
  c.textContent = e.load.downloaded
    ? 'Downloaded on this visit, now kept in the Cache API (hearth-ml-v1)'
    : 'Loaded from the Cache API: no download';
  $('#idb-name').textContent = `hearth-ml-profile:${e.shop.name}`;
  renderRequests();
}

async function onBackend(ev) {
  const want = ev.target.value;
  const s = $('#backend-status');
  const previous = engine.forced ?? 'auto';
  s.textContent = `Starting ${want}…`;
  s.dataset.state = 'busy';
  try {
    // every event recorded so far is in IndexedDB before the new engine reads the profile
    await Promise.allSettled([...storing]);
    const { engine: next, agree, of } = await switchBackend(engine, want, recOptions());
    engine.dispose();
    engine = next;
    engine.forced = want;
    renderEngine();
    // the list from the new engine first: 'ok' means it is what the page shows
    await renderRecs();
    s.dataset.state = 'ok';
    s.dataset.agree = String(agree);
    s.textContent = `Now running on ${engine.backend.toUpperCase()} (asked for ${want}). Its top-10 matches the previous engine's at ${agree} of ${of} positions.`;
  } catch (e) {
    $(`input[name=backend][value=${previous}]`).checked = true;
    s.dataset.state = 'unavailable';
    s.dataset.code = e.code ?? e.name;
    const gpu = !navigator.gpu ? 'This browser has no navigator.gpu.'
      : (await navigator.gpu.requestAdapter().catch(() => null)) ? 'This browser has a WebGPU adapter.' : 'This browser exposes navigator.gpu but gives no adapter.';
    s.textContent = `${want} is unavailable (${e.code ?? e.name}): ${e.message}. ${gpu} Still running on ${engine.backend.toUpperCase()}.`;
  }
}

// ---------- start ----------

async function main() {
  const progress = $('#progress');
  const onProgress = (loaded, total) => { progress.value = total ? loaded / total : 0; };
  const [sw, e] = await Promise.all([registerServiceWorker(), Engine.start('auto', onProgress)]);
  engine = e;
  document.body.dataset.sw = sw;
  // the whole catalog in popularity order: a cold-start recommendation over every item
  catalog = (await engine.shop.recommend({ k: engine.shop.info.numItems, exclude: 'none' })).map((r) => r.item);
  for (const it of catalog) byId.set(it.id, it);
  events = await engine.me.events();
  visit.returning = events.some((ev) => ev.ts < visit.start);
  showAttribution(engine.shop.info.attribution);
  renderPrivacy();
  renderEngine();
  renderCartCount();
  new PerformanceObserver(renderRequests).observe({ type: 'resource', buffered: true });

  // In-shop links change the URL with pushState and render at once: a plain hash navigation
  // delivers its hashchange event a task later (10-25 ms measured on a busy 2-core machine).
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest?.('a[href^="#/"]');
    if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    clickAt = performance.now();
    ev.preventDefault();
    if (a.getAttribute('href') !== location.hash) history.pushState(null, '', a.getAttribute('href'));
    route();
  });
  // back/forward and hashes typed into the address bar (fragment navigations fire popstate)
  window.addEventListener('popstate', () => { clickAt = performance.now(); route(); });
  $('#search-form').addEventListener('submit', (ev) => ev.preventDefault());
  $('#q').addEventListener('input', (ev) => {
    state.query = ev.target.value;
    state.shown = PAGE;
    if (location.hash && location.hash !== '#/') {
      history.pushState(null, '', '#/');
      route();
    } else renderCatalog();
  });
  $('#export').addEventListener('click', async () => {
    download(await engine.me.export(), 'hearth-shop-my-data.json');
    $('#privacy-status').textContent = `Exported ${events.length} events.`;
  });
  $('#erase').addEventListener('click', async () => {
    await engine.me.clear();
    localStorage.removeItem(CART_KEY);
    events = [];
    renderPrivacy();
    renderCartCount();
    $('#privacy-status').textContent = 'Erased: the IndexedDB database and the cart are gone; recommendations are back to popular items.';
    clickAt = performance.now();
    await route();
  });
  for (const r of document.querySelectorAll('input[name=backend]')) r.addEventListener('change', onBackend);

  setStatus('');
  $('#status').hidden = true;
  await route();
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  console.error(e);
  setStatus(`The shop could not start: ${e.code ?? e.name}: ${e.message}`);
  document.body.dataset.error = e.code ?? e.name;
});
