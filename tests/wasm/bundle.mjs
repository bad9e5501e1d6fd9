// A `.hearth` bundle writer in plain JS, independent of the Rust writer (src/bundle/mod.rs):
// used by the wasm tests and the recommender benchmark.

/** Writes a safetensors file: tensors ordered by decreasing alignment, header padded to 8. */
export function safetensors(tensors, manifest) {
  const order = Object.entries(tensors).sort((a, b) => b[1].align - a[1].align || (a[0] < b[0] ? -1 : 1));
  const header = { __metadata__: { hearth: JSON.stringify(manifest) } };
  let off = 0;
  for (const [name, t] of order) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes.byteLength] };
    off += t.bytes.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const hb = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20); // pad with spaces
  hb.set(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const [, t] of order) { out.set(new Uint8Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength), p); p += t.bytes.byteLength; }
  return out;
}
