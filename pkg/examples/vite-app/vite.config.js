// `public/` is the repo's models/ folder, so /propensity.onnx is the real model.
// hearth-ml starts its worker and finds its wasm with `new URL(…, import.meta.url)`: Vite's
// build follows those; its dev server's dependency pre-bundling would move the module away from
// them, so hearth-ml is excluded from it.
export default {
  publicDir: '../../../models',
  optimizeDeps: { exclude: ['hearth-ml'] },
  worker: { format: 'es' },
  build: { target: 'es2022' },
};
