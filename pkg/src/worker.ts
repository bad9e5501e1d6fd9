/**
 * The module Web Worker the package starts: receives `{ id, op, args }`, runs the operation on
 * its {@link Engine} one message at a time, and answers `{ id, ok, value }` (output buffers moved,
 * not copied) or `{ id, ok: false, error }`. A wasm trap leaves the instance unusable, so it is
 * reported as `{ fatal }` and the page side starts a fresh worker.
 * Not part of the public API.
 * @packageDocumentation
 */
import { Engine } from './engine.js';
import { toWire } from './errors.js';

const engine = new Engine();
const scope = self as unknown as {
  onmessage: ((ev: MessageEvent) => void) | null;
  postMessage(msg: unknown, transfer?: Transferable[]): void;
};

// An error that escapes a handler leaves the engine in an unknown state: ask for a new worker.
self.addEventListener('unhandledrejection', (ev) => {
  scope.postMessage({ fatal: toWire((ev as PromiseRejectionEvent).reason) });
});

scope.onmessage = async (ev: MessageEvent) => {
  const { id, op, args } = ev.data as { id: number; op: string; args: unknown };
  try {
    const { value, transfer } = await engine.call(op, args);
    scope.postMessage({ id, ok: true, value }, transfer);
  } catch (e) {
    scope.postMessage({ id, ok: false, error: toWire(e) });
    if (e instanceof WebAssembly.RuntimeError) scope.postMessage({ fatal: toWire(e) });
  }
};
