// Serves the built site (dist/: the shop and the practice app) on 127.0.0.1. Every response says `Cache-Control: no-store`, so
// the browser's HTTP cache never answers for the server: a request that does not reach the log
// was served by the service worker or the Cache API. The tests import serve(); run directly it
// prints the URL and serves until stopped (`node scripts/serve.mjs [--port 8080]`).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const www = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.json': 'application/json', '.hearth': 'application/octet-stream', '.png': 'image/png', '.svg': 'image/svg+xml',
};

/**
 * Serves `dir`; returns `{ base, log, close }` where `log` lists every request's path in order.
 * `headers` go on every response (e.g. a Content-Security-Policy).
 */
export async function serve(dir = path.join(www, 'dist'), { port = 0, host = '127.0.0.1', headers: more = {} } = {}) {
  const root = path.resolve(dir);
  const log = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    log.push(url.pathname);
    let file = path.join(root, decodeURIComponent(url.pathname));
    const headers = { 'cache-control': 'no-store', ...more };
    try {
      if (!file.startsWith(root)) throw new Error('outside');
      if ((await stat(file)).isDirectory()) file = path.join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, headers);
      res.end();
    }
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return {
    base: `http://${host}:${server.address().port}`,
    log,
    close: () => new Promise((r) => server.close(r)),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : Number(process.env.PORT ?? 8080);
  const s = await serve(path.join(www, 'dist'), { port });
  console.log(`Hearth shop: ${s.base}/  practice app: ${s.base}/practice.html  (Ctrl-C stops the server)`);
}
