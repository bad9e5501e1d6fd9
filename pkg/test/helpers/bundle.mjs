// A small `.hearth` recommender bundle for the tests, written by hand in the documented format
// (src/bundle/mod.rs): a safetensors file whose `__metadata__.hearth` is the JSON manifest.
//
// The catalog has two clusters: Kitchen items K1..K4 point along one axis, Garden items G1..G4
// along another, so a profile that bought kitchen things must be recommended kitchen things.
// Popularity favours the Garden items, so a cold start must show Garden items first.

/** Writes a safetensors file: `tensors` is `{ name: { dtype: 'F32', shape, data: Float32Array } }`. */
export function safetensors(tensors, metadata) {
  const header = { __metadata__: metadata };
  let offset = 0;
  const parts = [];
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + new TextEncoder().encode(json).length) % 8) json += ' ';
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

export const KITCHEN = ['K1', 'K2', 'K3', 'K4'];
export const GARDEN = ['G1', 'G2', 'G3', 'G4'];

/** The test shop's bundle bytes. */
export function shopBundle() {
  const dim = 4;
  const items = [
    ...KITCHEN.map((id, i) => ({ id, name: `Kitchen thing ${i + 1}`, category: 'Kitchen', price: 5 + i, inStock: i !== 3 })),
    ...GARDEN.map((id, i) => ({ id, name: `Garden thing ${i + 1}`, category: 'Garden', price: 20 + i, inStock: true })),
  ];
  const factors = new Float32Array(items.length * dim);
  items.forEach((it, r) => {
    const axis = it.category === 'Kitchen' ? 0 : 1;
    factors[r * dim + axis] = 1 - 0.05 * (r % 4);
    factors[r * dim + 2] = 0.1 * (r % 4); // a little spread inside a cluster
    factors[r * dim + 3] = 0.05;
  });
  const popularity = Float32Array.from(items, (it, r) => (it.category === 'Garden' ? 10 - (r % 4) : 1));
  const manifest = {
    format: 'hearth.recommender',
    version: 1,
    dim,
    metric: 'dot',
    items,
    attribution: ['hearth-ml test catalog (synthetic)'],
  };
  return safetensors(
    {
      item_factors: { dtype: 'F32', shape: [items.length, dim], data: factors },
      popularity: { dtype: 'F32', shape: [items.length], data: popularity },
    },
    { hearth: JSON.stringify(manifest) },
  );
}

/**
 * A random catalog of `n` items in `d` dimensions (ids `i00000`… in sorted order, categories
 * A/B/C, prices 1..50, a bias-free dot metric, popularity), deterministic for a seed: big enough
 * that a top-k scan on the GPU has real work and real near-ties to get right. `foldIn` sets the
 * manifest's fold-in parameters (`{ alpha, lambda, halfLifeDays, eventWeights }`).
 */
export function randomBundle(n, d, seed = 1, { dtype = 'f32', foldIn } = {}) {
  let s = seed >>> 0 || 1;
  const r = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32 - 0.5;
  };
  const items = Array.from({ length: n }, (_, i) => ({
    id: `i${String(i).padStart(5, '0')}`, name: `Item ${i}`, category: 'ABC'[i % 3], price: 1 + (i % 50), inStock: i % 7 !== 0,
  }));
  const factors = Float32Array.from({ length: n * d }, r);
  const popularity = Float32Array.from(items, () => r() + 0.5);
  const manifest = { format: 'hearth.recommender', version: 1, dim: d, metric: 'dot', items, attribution: ['hearth-ml test catalog (random)'], ...(foldIn ? { foldIn } : {}) };
  const tensors = { item_factors: { dtype: 'F32', shape: [n, d], data: factors }, popularity: { dtype: 'F32', shape: [n], data: popularity } };
  if (dtype === 'int8') {
    // one scale per row: row = scale · i8
    const q = new Int8Array(n * d);
    const scales = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      const row = factors.subarray(r * d, (r + 1) * d);
      scales[r] = Math.max(...row.map(Math.abs)) / 127 || 1;
      row.forEach((v, k) => { q[r * d + k] = Math.round(v / scales[r]); });
    }
    tensors.item_factors = { dtype: 'I8', shape: [n, d], data: q };
    tensors.item_scales = { dtype: 'F32', shape: [n], data: scales };
  }
  return safetensors(tensors, { hearth: JSON.stringify(manifest) });
}
