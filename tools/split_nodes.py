"""Writes each node of an ONNX model as a one-node model, for benches/layers.mjs.

    python3 tools/split_nodes.py MODEL.onnx OUT_DIR

Shapes come from ONNX shape inference: a node whose inputs have no inferred shape is skipped
(and named). Initializers and the Constant / ConstantOfShape nodes a node reads go with it, so
each file runs alone; its other inputs become graph inputs. Files are named `NNN_OpType.onnx` in
graph order. A development tool: nothing it writes is committed.
"""
import onnx, sys, os
from onnx import shape_inference, helper
src, out = sys.argv[1], sys.argv[2]
m = onnx.load(src)
m = shape_inference.infer_shapes(m)
g = m.graph
inits = {i.name: i for i in g.initializer}
vi = {v.name: v for v in list(g.value_info) + list(g.input) + list(g.output)}
prod = {o: n for n in g.node for o in n.output}
CONST = ("Constant", "ConstantOfShape")
os.makedirs(out, exist_ok=True)
for k, n in enumerate(g.node):
    if n.op_type in CONST: continue
    nodes, ins, used = [], [], []
    def need(name):
        if not name: return
        if name in inits: used.append(inits[name]); return
        p = prod.get(name)
        if p is not None and p.op_type in CONST:
            for i in p.input: need(i)
            nodes.append(p); return
        if name not in vi: raise KeyError(name)
        ins.append(vi[name])
    try:
        for i in n.input: need(i)
    except KeyError as e:
        print("skip", k, n.op_type, e); continue
    outs = [vi[o] if o in vi else helper.make_tensor_value_info(o, onnx.TensorProto.FLOAT, None) for o in n.output if o]
    seen=set(); ins=[i for i in ins if not (i.name in seen or seen.add(i.name))]
    graph = helper.make_graph(nodes + [n], f"n{k}", ins, outs, used)
    mm = helper.make_model(graph, opset_imports=m.opset_import)
    mm.ir_version = m.ir_version
    onnx.save(mm, os.path.join(out, f"{k:03d}_{n.op_type}.onnx"))
