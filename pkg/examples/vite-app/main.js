// The README's five lines in a Vite app: the model is fetched once (then served from the Cache
// API) and runs in a Web Worker started by the package.
import { Hearth } from 'hearth-ml';

const out = document.querySelector('#out');
try {
  const hearth = await Hearth.init();
  const model = await hearth.loadModel('/propensity.onnx');
  const session = [3, 60, 0, 0, 40, 1500, 0.005, 0.02, 25, 0, 11, 2, 2, 1, 2, 1, 0];
  const { purchase_probability } = await model.run({ features: { data: Float32Array.from(session), dims: [1, 17] } });
  const p = purchase_probability.data[0];
  out.textContent = `P(purchase) = ${p.toFixed(3)} on ${model.backend}${hearth.worker ? ' in a worker' : ''}`;
  out.dataset.p = String(p);
  out.dataset.backend = model.backend;
  out.dataset.worker = String(hearth.worker);
} catch (e) {
  out.textContent = `error: ${e.code ?? e.name}: ${e.message}`;
  out.dataset.error = e.code ?? e.name;
}
