// int16, uint16, uint32, uint64 and bfloat16 through hearth-ml's Model.run (Node entry): the Cast /
// Identity model and expected values of tests/wasm/dtypes_case.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hearth, HearthError } from 'hearth-ml';
import { castCase, castModel } from '../../tests/wasm/dtypes_case.mjs';

test('int16 / uint16 / uint32 / uint64 / bfloat16 tensors in and out of Model.run', async () => {
  const hearth = await Hearth.init();
  try {
    const model = await hearth.loadModel(castModel());
    const { feeds, want } = castCase();
    const out = await model.run(feeds, { allowNonFinite: true }); // e_bf16 holds an Infinity
    for (const [name, [type, C, data]] of Object.entries(want)) {
      assert.equal(out[name].type, type, `${name}: type`);
      assert.ok(out[name].data instanceof C, `${name}: ${out[name].data.constructor.name}, want ${C.name}`);
      assert.deepEqual(Array.from(out[name].data), data, name);
    }
    // a Uint16Array needs its type; a wrong typed array is INPUT_DTYPE naming the input
    await assert.rejects(model.run({ ...feeds, b_u16: { data: feeds.b_u16.data, dims: [4] } }), (e) => e instanceof TypeError && /b_u16/.test(e.message));
    await assert.rejects(model.run({ ...feeds, c_u32: { data: new Int32Array(4), dims: [4] } }),
      (e) => e instanceof HearthError && e.code === 'INPUT_DTYPE' && /c_u32/.test(e.message) && /uint32/.test(e.message));
    // NaN as bfloat16 bits is refused like a float NaN
    await assert.rejects(model.run({ ...feeds, e_bf16: { data: new Uint16Array([0x7fc0, 0, 0, 0]), dims: [4], type: 'bfloat16' } }),
      (e) => e instanceof HearthError && e.code === 'INPUT_VALUE' && /e_bf16/.test(e.message));
    model.dispose();
  } finally {
    hearth.dispose();
  }
});
