#!/usr/bin/env python3
"""onnxruntime outputs of the committed quantize_static QDQ model on seeded inputs, made ONCE.

Usage
    python3 scripts/make_qdq_refs.py OUTFILE      # normally Tests/ReferenceTests/QuantRefs/qdq_static_refs.json
    python3 scripts/make_qdq_refs.py --verify OUTFILE

Environment: the venv of scripts/make_op_cases.py (onnx==1.23.2 onnxruntime==1.32.0 numpy).

Model: Tests/ReferenceTests/OpCases/family_qcnn_qdq_static/model.onnx, which scripts/make_op_cases.py
made with onnxruntime.quantization.quantize_static(QuantFormat.QDQ, per_channel=True, reduce_range=False,
activation_type=QUInt8, weight_type=QInt8, calibrate_method=MinMax) from family_qcnn_float.
Inputs: 32 seeded inputs of shape [1, 1, 8, 8], uniform in [0, 1) (numpy default_rng(20261202)), float32.
Outputs: onnxruntime CPU, graph optimizations disabled (ORT_DISABLE_ALL), so the QDQ nodes run as stored.
Also recorded: every scalar (scale, zero point) pair of the model's DequantizeLinear nodes, by the name of
the tensor they dequantize (the quantizer's activation grids), and for each float weight layer the grid of
its data input, so that a test can rebuild the same grids for Kappa's own fake quantization.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODEL = os.path.join(ROOT, "Tests/ReferenceTests/OpCases/family_qcnn_qdq_static/model.onnx")
COUNT = 32


def make():
    m = onnx.load(MODEL)
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    rng = np.random.default_rng(20261202)
    xs = [rng.random((1, 1, 8, 8)).astype(np.float32) for _ in range(COUNT)]
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(MODEL, so, providers=["CPUExecutionProvider"])
    ys = [s.run(None, {"input": x})[0] for x in xs]
    grids = {}
    producer = {}
    for n in m.graph.node:
        for o in n.output:
            producer[o] = n
        if n.op_type == "DequantizeLinear" and inits.get(n.input[1]) is not None and inits[n.input[1]].ndim == 0:
            sc = inits[n.input[1]]
            zp = inits[n.input[2]] if len(n.input) > 2 else np.uint8(0)
            grids[n.output[0]] = {"scale": float(np.float32(sc)), "zero_point": int(zp), "dtype": str(zp.dtype)}
    layer_inputs = {}
    for n in m.graph.node:
        if n.op_type in ("Conv", "MatMul"):
            dq = producer[n.input[0]]
            assert dq.op_type == "DequantizeLinear"
            layer_inputs[n.name] = grids[dq.output[0]]
    logits_dq = producer[m.graph.output[0].name]
    assert logits_dq.op_type == "DequantizeLinear"
    return {
        "model": "OpCases/family_qcnn_qdq_static/model.onnx",
        "onnxruntime": ort.__version__,
        "input": "input",
        "output": m.graph.output[0].name,
        "inputs": [x.flatten().tolist() for x in xs],
        "outputs": [y.flatten().tolist() for y in ys],
        "grids": grids,
        "layer_input_grids": layer_inputs,
        "output_step": grids[logits_dq.output[0]]["scale"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--verify", action="store_true")
    a = ap.parse_args()
    d = make()
    if a.verify:
        old = json.load(open(a.out))
        ok = old == json.loads(json.dumps(d))
        print("identical" if ok else "DIFFERENT")
        sys.exit(0 if ok else 1)
    with open(a.out, "w") as f:
        json.dump(d, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
