#!/usr/bin/env python3
"""A Cast/Identity model over the dtypes JS holds in Int16Array, Uint16Array (uint16, and bfloat16
bits), Uint32Array and BigUint64Array, for tests/wasm/dtypes.test.mjs and pkg/test/dtypes.test.mjs
(their expected values are worked out in the tests). Usage: python3 tools/cast_dtypes_model.py OUT.onnx
"""
import sys, onnx
from onnx import TensorProto as T, helper as h
ins = [("a_i16", T.INT16), ("b_u16", T.UINT16), ("c_u32", T.UINT32), ("d_u64", T.UINT64), ("e_bf16", T.BFLOAT16), ("f_f32", T.FLOAT)]
casts = [("i16_f32", "a_i16", T.FLOAT), ("f32_i16", "f_f32", T.INT16), ("u16_u32", "b_u16", T.UINT32),
         ("u32_u64", "c_u32", T.UINT64), ("u64_i64", "d_u64", T.INT64), ("bf16_f32", "e_bf16", T.FLOAT),
         ("f32_bf16", "f_f32", T.BFLOAT16)]
nodes = [h.make_node("Cast", [i], [o], to=t) for o, i, t in casts]
nodes += [h.make_node("Identity", [i], [i + "_id"]) for i, _ in ins]
g = h.make_graph(nodes, "casts", [h.make_tensor_value_info(n, t, [4]) for n, t in ins],
                 [h.make_tensor_value_info(o, t, [4]) for o, _, t in casts] + [h.make_tensor_value_info(i + "_id", t, [4]) for i, t in ins])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 19)], ir_version=9), sys.argv[1])
