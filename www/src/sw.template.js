// The shop's service worker (written into dist/ by vite.config.js): precaches the app shell so
// the shop opens offline after the first visit. The recommender bundle is not here: hearth-ml
// keeps it in its own Cache API cache ('hearth-ml-v1'). Requests it has no copy of go to the
// network untouched.
const CACHE = 'hearth-shop-__VERSION__';
const SHELL = __SHELL__;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const k of await caches.keys()) if (k.startsWith('hearth-shop-') && k !== CACHE) await caches.delete(k);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== location.origin || url.pathname.endsWith('/shop.hearth')) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // navigations (any #route) get the shell's index.html
    const hit = await cache.match(req.mode === 'navigate' ? './' : req, { ignoreSearch: true });
    return hit ?? fetch(req);
  })());
});
