// int16, uint16, uint32, uint64 and bfloat16 tensors across the wasm boundary (Int16Array,
// Uint16Array with its type, Uint32Array, BigUint64Array, Uint16Array of bfloat16 bits): a Cast /
// Identity model (tools/cast_dtypes_model.py) against values worked out in dtypes_case.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hearth } from './common.mjs';
import { castCase, castModel } from './dtypes_case.mjs';

test('int16 / uint16 / uint32 / uint64 / bfloat16 tensors round-trip through Cast', () => {
  const s = hearth.Session.fromBytes(castModel());
  assert.deepEqual(s.inputs.map((i) => i.type), ['int16', 'uint16', 'uint32', 'uint64', 'bfloat16', 'float32']);
  const { feeds, want } = castCase();
  const out = s.run(feeds);
  for (const [name, [type, C, data]] of Object.entries(want)) {
    assert.equal(out[name].type, type, `${name}: type`);
    assert.ok(out[name].data instanceof C, `${name}: ${out[name].data.constructor.name}, want ${C.name}`);
    assert.deepEqual(out[name].dims, [4], `${name}: dims`);
    assert.deepEqual(Array.from(out[name].data), data, name);
  }
  // a Uint16Array without its type is ambiguous
  assert.throws(() => s.run({ ...feeds, b_u16: { data: feeds.b_u16.data, dims: [4] } }),
    (e) => e.code === 'ARGUMENT' && /b_u16/.test(e.message) && /uint16/.test(e.message));
});
