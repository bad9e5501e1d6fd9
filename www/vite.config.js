// The demo site's Vite build: two pages, the shop (index.html) and the practice app
// (practice.html). hearth-ml needs no configuration (Vite follows its
// `new URL(…, import.meta.url)` worker and wasm). Three additions:
// - __BUNDLE__ / __TRACER__ / __PROPENSITY__: the recommender and learning bundles' and the
//   propensity model's URL, size and SRI hash, read from public/shop.hearth,
//   public/practice.hearth and public/propensity.onnx (built by scripts/build-bundle.mjs), so
//   the package checks them and a rebuilt bundle gets a new Cache API key;
// - sw.js: a service worker written after the build that precaches the app shell (every file in
//   dist/ except the bundles, which the package keeps in its own Cache API cache), so both pages
//   open offline after the first visit.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function bundleInfo(name, data) {
  const file = path.join(here, 'public', name);
  if (!existsSync(file)) {
    throw new Error(`public/${name} is missing: run \`npm run bundle\` (the CLI builds it from the ${data} data)`);
  }
  const bytes = readFileSync(file);
  return { url: name, size: bytes.length, integrity: 'sha256-' + createHash('sha256').update(bytes).digest('base64') };
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
      const shell = files(outDir).filter((f) => f !== 'sw.js' && !f.endsWith('.hearth'));
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
  build: {
    target: 'es2022',
    assetsInlineLimit: 0,
    rollupOptions: { input: { shop: path.join(here, 'index.html'), practice: path.join(here, 'practice.html') } },
  },
  define: {
    __BUNDLE__: JSON.stringify(bundleInfo('shop.hearth', 'Online Retail')),
    __TRACER__: JSON.stringify(bundleInfo('practice.hearth', 'MathE')),
    __PROPENSITY__: JSON.stringify(bundleInfo('propensity.onnx', 'Online Shoppers')),
  },
  plugins: [serviceWorker()],
  server: { fs: { allow: ['..'] } },
};
