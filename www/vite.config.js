// The shop's Vite build. hearth-ml needs no configuration (Vite follows its
// `new URL(…, import.meta.url)` worker and wasm). Two additions:
// - __BUNDLE__: the recommender bundle's URL, size and SRI hash, read from public/shop.hearth
//   (built by scripts/build-bundle.mjs), so the package checks it and a rebuilt bundle gets a
//   new Cache API key;
// - sw.js: a service worker written after the build that precaches the app shell (every file in
//   dist/ except the bundle, which the package keeps in its own Cache API cache), so the shop
//   opens offline after the first visit.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const bundleFile = path.join(here, 'public/shop.hearth');

function bundleInfo() {
  if (!existsSync(bundleFile)) {
    throw new Error('public/shop.hearth is missing: run `npm run bundle` (the CLI builds it from the Online Retail data)');
  }
  const bytes = readFileSync(bundleFile);
  return { url: 'shop.hearth', size: bytes.length, integrity: 'sha256-' + createHash('sha256').update(bytes).digest('base64') };
}

function files(dir, base = dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p, base) : [path.relative(base, p).split(path.sep).join('/')];
  });
}

function serviceWorker() {
  let outDir;
  return {
    name: 'hearth-shop-service-worker',
    apply: 'build',
    configResolved(c) { outDir = path.resolve(c.root, c.build.outDir); },
    writeBundle() {
      const shell = files(outDir).filter((f) => f !== 'sw.js' && f !== 'shop.hearth');
      const version = createHash('sha256').update(shell.map((f) => f + readFileSync(path.join(outDir, f)).length).join()).digest('hex').slice(0, 12);
      const src = readFileSync(path.join(here, 'src/sw.template.js'), 'utf8')
        .replace('__VERSION__', version)
        .replace('__SHELL__', JSON.stringify(['./', ...shell]));
      writeFileSync(path.join(outDir, 'sw.js'), src);
    },
  };
}

export default {
  base: './',
  build: { target: 'es2022', assetsInlineLimit: 0 },
  define: { __BUNDLE__: JSON.stringify(bundleInfo()) },
  plugins: [serviceWorker()],
  server: { fs: { allow: ['..'] } },
};
