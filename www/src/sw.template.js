// The demo site's service worker (written into dist/ by vite.config.js): precaches the app shell
// (both pages, the shop and the practice app) so they open offline after the first visit. The
// bundles (*.hearth) are not here: hearth-ml keeps them in its own Cache API cache
// ('hearth-ml-v1'). Requests it has no copy of go to the network untouched.
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
  if (req.method !== 'GET' || url.origin !== location.origin || url.pathname.endsWith('.hearth')) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // a navigation to the site's root (any #route) gets the shop's index.html; one to a page
    // (practice.html) gets that page
    const root = req.mode === 'navigate' && url.pathname.endsWith('/');
    const hit = await cache.match(root ? './' : req, { ignoreSearch: true });
    return hit ?? fetch(req);
  })());
});
