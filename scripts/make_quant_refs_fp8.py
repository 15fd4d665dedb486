#!/usr/bin/env python3
"""Float8 and activation-range quantizer reference values for `kappa quant`, made ONCE.

Usage
    python3 scripts/make_quant_refs_fp8.py Tests/ReferenceTests/QuantRefs/quant_refs_fp8.json

Environment: the venv of scripts/make_op_cases.py (onnx 1.23.2, onnxruntime 1.32.0, numpy, ml_dtypes 0.7.0).

Complements scripts/make_quant_refs.py (weights: int8/uint8/int4, float16, bfloat16):

  float8: for FLOAT8E4M3FN and FLOAT8E5M2, onnx's ReferenceEvaluator running QuantizeLinear(x, scale=1,
          zero_point of the float8 type, saturate=1) then DequantizeLinear: round to nearest even,
          saturating to +-448 / +-57344. Checked against ml_dtypes.astype after clipping to the largest
          finite value (ml_dtypes itself does not saturate).
  activations: onnxruntime.quantization.quant_utils.compute_scale_zp(rmin, rmax, qmin, qmax,
          symmetric=False) for a calibrated range [lo, hi] (uint8 [0, 255], int8 [-128, 127]), then
          quant_utils.quantize_nparray(qType, x, scale, zero_point): q = clip(round(x / scale) + zp), with
          values inside and outside [lo, hi] (saturation) and exact ties.
"""
import json
import sys
import zlib

import ml_dtypes
import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto as TP
from onnx import helper
from onnx.reference import ReferenceEvaluator
from onnxruntime.quantization import quant_utils


def rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def fp8_values():
    r = rng("fp8")
    x = np.concatenate([
        r.standard_normal(40) * 3,
        r.standard_normal(12) * 200,             # near and beyond 448
        [448, 449, 464, 465, 480, 500, 1e4, -1e4, 57344, 61440, 1e6, -1e6],
        r.standard_normal(10) * 1e-3,            # e4m3 subnormals (below 2^-6)
        [2 ** -9, 2 ** -10, 3 * 2 ** -11, 2 ** -16, 2 ** -17, 3 * 2 ** -18, 0.0, -0.0],
        [1.0625, 1.1875, 1.125, 1.375, -1.0625, 2.25, 2.75],  # ties for e4m3 (3 bits) / e5m2 (2 bits)
    ]).astype(np.float32)
    return x


def fp8_round(x, qtype):
    node_q = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], saturate=1)
    node_d = helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])
    g = helper.make_graph([node_q, node_d], "g", [helper.make_tensor_value_info("x", TP.FLOAT, [len(x)])],
                          [helper.make_tensor_value_info("y", TP.FLOAT, [len(x)])],
                          [helper.make_tensor("s", TP.FLOAT, [], [1.0]), helper.make_tensor("z", qtype, [], [0.0])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    y = ReferenceEvaluator(m).run(None, {"x": x})[0]
    mx = 448.0 if qtype == TP.FLOAT8E4M3FN else 57344.0
    dt = ml_dtypes.float8_e4m3fn if qtype == TP.FLOAT8E4M3FN else ml_dtypes.float8_e5m2
    check = np.clip(x, -mx, mx).astype(dt).astype(np.float32)
    assert np.array_equal(check, y), "onnx reference and clipped ml_dtypes disagree"
    return y


def activation_case(name, lo, hi, qtype):
    qmin, qmax = quant_utils.get_qmin_qmax_for_qType(qtype, reduce_range=False, symmetric=False)
    zp, scale = quant_utils.compute_scale_zp(np.array(lo, np.float32), np.array(hi, np.float32), qmin, qmax, symmetric=False)
    r = rng(name)
    span = hi - lo
    x = np.concatenate([r.uniform(lo, hi, 30), r.uniform(lo - span, lo, 4), r.uniform(hi, hi + span, 4), [lo, hi, 0.0]]).astype(np.float32)
    ties = (r.integers(int(qmin) + 2, int(qmax) - 2, 5) - int(zp) + 0.5) * np.float32(scale)
    x = np.concatenate([x, ties.astype(np.float32)])
    q = quant_utils.quantize_nparray(qtype, x, np.float32(scale), zp)
    deq = (q.astype(np.float64) - int(zp)) * np.float64(np.float32(scale))
    return {"name": name, "dtype": "uint8" if qtype == TP.UINT8 else "int8", "lo": float(np.float32(lo)), "hi": float(np.float32(hi)),
            "qmin": int(qmin), "qmax": int(qmax), "scale": float(np.float32(scale)), "zero_point": int(zp),
            "values": [float(v) for v in x], "q": [int(v) for v in q], "dequantized": [float(np.float32(v)) for v in deq]}


def main():
    x = fp8_values()
    doc = {"format": "kappa-quant-refs-fp8/1", "generator": "scripts/make_quant_refs_fp8.py",
           "versions": f"onnxruntime {onnxruntime.__version__}, onnx {onnx.__version__}, numpy {np.__version__}, ml_dtypes {ml_dtypes.__version__}",
           "float8": {"values": [float(v) for v in x],
                      "fp8-e4m3": [float(v) for v in fp8_round(x, TP.FLOAT8E4M3FN)],
                      "fp8-e5m2": [float(v) for v in fp8_round(x, TP.FLOAT8E5M2)]},
           "activations": [activation_case("relu_range", 0.0, 6.0, TP.UINT8),
                           activation_case("signed_range", -1.7, 2.3, TP.UINT8),
                           activation_case("signed_range_int8", -1.7, 2.3, TP.INT8),
                           activation_case("negative_range_int8", -3.1, -0.4, TP.INT8)]}
    with open(sys.argv[1], "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")


if __name__ == "__main__":
    main()
