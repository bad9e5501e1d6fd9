// The Cast / Identity case of tests/wasm/dtypes.test.mjs and pkg/test/dtypes.test.mjs: int16,
// uint16, uint32, uint64 and bfloat16 (tools/cast_dtypes_model.py), with values worked out here.
import { readFileSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The model's feeds and, per output, the expected { type, data }. */
export function castCase() {
  // f32 → bf16 bits, rounded to nearest even (the scalar twin of the engine's Cast)
  const bf16 = (x) => {
    const b = new Uint32Array(new Float32Array([x]).buffer)[0];
    return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
  };
  const f = [-3.7, 1000.25, -32768, 7.5];
  const feeds = {
    a_i16: { data: new Int16Array([-32768, -1, 0, 32767]), dims: [4] },
    b_u16: { data: new Uint16Array([0, 1, 40000, 65535]), dims: [4], type: 'uint16' },
    c_u32: { data: new Uint32Array([0, 1, 3000000000, 4294967295]), dims: [4] },
    d_u64: { data: new BigUint64Array([0n, 1n, 2n ** 63n, 2n ** 64n - 1n]), dims: [4] },
    e_bf16: { data: new Uint16Array([0x3fc0, 0xc020, 0x7f80, 0x0000]), dims: [4], type: 'bfloat16' },
    f_f32: { data: new Float32Array(f), dims: [4] },
  };
  const want = {
    i16_f32: ['float32', Float32Array, [-32768, -1, 0, 32767]],
    f32_i16: ['int16', Int16Array, [-3, 1000, -32768, 7]], // toward zero
    u16_u32: ['uint32', Uint32Array, [0, 1, 40000, 65535]],
    u32_u64: ['uint64', BigUint64Array, [0n, 1n, 3000000000n, 4294967295n]],
    u64_i64: ['int64', BigInt64Array, [0n, 1n, -(2n ** 63n), -1n]], // the same bits
    bf16_f32: ['float32', Float32Array, [1.5, -2.5, Infinity, 0]],
    f32_bf16: ['bfloat16', Uint16Array, f.map(bf16)],
  };
  const types = { a_i16: 'int16', b_u16: 'uint16', c_u32: 'uint32', d_u64: 'uint64', e_bf16: 'bfloat16', f_f32: 'float32' };
  for (const [name, t] of Object.entries(feeds)) want[`${name}_id`] = [types[name], t.data.constructor, Array.from(t.data)];
  return { feeds, want };
}

export function castModel() {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'hearth-dtypes-')), 'casts.onnx');
  execFileSync('python3', [path.join(root, 'tools/cast_dtypes_model.py'), out]);
  return new Uint8Array(readFileSync(out));
}
