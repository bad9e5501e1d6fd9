// Nothing hearth-ml-specific is needed: Vite follows the package's `new URL(…, import.meta.url)`
// for its worker and wasm in the dev server and in the build. `public/` is the repo's models/
// folder, so /propensity.onnx is the real model; es2022 for main.js's top-level await.
export default {
  publicDir: '../../../models',
  build: { target: 'es2022' },
};
