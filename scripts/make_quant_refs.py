#!/usr/bin/env python3
"""Quantizer reference values for Kappa's future quantization command, made ONCE by onnxruntime.

Usage
    python3 scripts/make_quant_refs.py OUTFILE      # normally Tests/ReferenceTests/QuantRefs/quant_refs.json
    python3 scripts/make_quant_refs.py --verify OUTFILE

Environment: the venv of scripts/make_op_cases.py (onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6
ml_dtypes==0.7.0; see that script's docstring for the full list).

For a few seeded weight tensors it records the scales, zero points and quantized integers that
onnxruntime.quantization's own functions produce, and the float16 / bfloat16 roundings:

  int8_symmetric_per_tensor       quant_utils.quantize_data(W.flatten(), TensorProto.INT8, symmetric=True,
                                                            reduce_range=False, min_real_range=None)
  int8_symmetric_per_channel_axis0  for each c: quantize_data(W.take(c, 0).flatten(), TensorProto.INT8,
                                                            symmetric=True, reduce_range=False)
  uint8_asymmetric_per_tensor     quantize_data(W.flatten(), TensorProto.UINT8, symmetric=False, reduce_range=False)
  int4_symmetric_per_channel_axis0  for each c: quantize_data(W.take(c, 0).flatten(), TensorProto.INT4,
                                                            symmetric=True, reduce_range=False)

quantize_data = compute_data_quant_params (rmin = min(0, min W), rmax = max(0, max W); symmetric:
absmax = max(|rmin|, |rmax|), scale = 2*absmax/(qmax - qmin) in float64 then float32, zero point
round((qmin+qmax)/2); asymmetric: scale = (rmax - rmin)/(qmax - qmin), zero point round(qmin - rmin/scale))
followed by quantize_nparray: q = clip(round_half_even(float32(W) / float32(scale)) + zp, type range).
[qmin, qmax]: int8 symmetric [-127, 127]; uint8 [0, 255]; int4 symmetric uses the full [-8, 7] (onnxruntime
has no restricted symmetric range for int4), so its zero point is round(-0.5) = 0 and scale = 2*absmax/15.
These are the functions quantize_static / quantize_dynamic call for weights (onnx_quantizer.py
quantize_initializer_impl / quantize_weight_per_channel_impl; qdq_quantizer.py compute_data_quant_params +
quantize_onnx_initializer); the script checks that claim by running quantize_static (QDQ) on one-node
models holding the same weights and comparing the initializers it writes, bit for bit.

float16: numpy astype(float16) (IEEE round to nearest even; overflow -> inf).
bfloat16: round to nearest even on the float32 bit pattern: b = (u + 0x7FFF + ((u >> 16) & 1)) >> 16 for
u = the float32 bits as uint32 (NaN kept quiet: 0x7FC0 | sign); checked against ml_dtypes.bfloat16.
Values are stored as JSON numbers that are exactly the float32 (or float16/bfloat16) values (shortest
repr of the float64 holding them), plus the raw bit patterns for the 16-bit formats.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import zlib

import ml_dtypes
import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper, numpy_helper
from onnxruntime.quantization import quant_utils

SCHEMES = [
    ("int8_symmetric_per_tensor", TP.INT8, True, None),
    ("int8_symmetric_per_channel_axis0", TP.INT8, True, 0),
    ("uint8_asymmetric_per_tensor", TP.UINT8, False, None),
    ("int4_symmetric_per_channel_axis0", TP.INT4, True, 0),
]


def rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def with_ties(w, axis_scale_exp, r, n_ties):
    """Put n_ties exact ties (k + 1/2) * 2^e into each channel of w (axis 0), e = that channel's scale exponent."""
    w = w.copy()
    for c in range(w.shape[0]):
        flat = w[c].reshape(-1)
        idx = r.choice(np.arange(1, flat.size), size=n_ties, replace=False)
        step = 2.0 ** axis_scale_exp[c]
        flat[idx] = (r.integers(-100, 100, n_ties) + 0.5) * step
        w[c] = flat.reshape(w[c].shape)
    return w


def set_absmax(w, absmax, r):
    """Make channel c's largest |value| exactly absmax[c] (first element of the channel, random sign)."""
    w = w.copy()
    for c in range(w.shape[0]):
        flat = w[c].reshape(-1)
        lim = absmax[c] * 0.999
        flat[:] = np.clip(flat, -lim, lim)
        flat[0] = absmax[c] * (1 if r.integers(0, 2) else -1)
        w[c] = flat.reshape(w[c].shape)
    return w


def make_tensors():
    out = []
    # 1. FC weight [8, 5]: channel c's absmax = 127 * 2^-(6+k_c) so that the symmetric int8 scale (absmax/127) is a power
    #    of two per channel and per tensor, and entries (k + 1/2) * scale are exact ties.
    r = rng("fc_8x5")
    k = np.array([0, 1, 0, 2, 0, 1, 3, 0])
    absmax = 127.0 * 2.0 ** -(6 + k)
    w = r.standard_normal((8, 5)) * 0.6
    w = set_absmax(np.clip(w, -1.9, 1.9) * (2.0 ** -k)[:, None], absmax, r)
    w = with_ties(w, -(6 + k), r, 2)
    out.append(("fc_8x5", w.astype(np.float32),
                "FC weight [N=8, K=5] (Gemm transB=1 layout, output channels on axis 0). Row c has absmax 127*2^-(6+k_c), "
                "k = [0,1,0,2,0,1,3,0], so the int8 symmetric scales are powers of two (per tensor 2^-6) and two entries per row "
                "are exact ties (k+1/2)*2^-(6+k_c) of w/scale: ties for per-channel int8, and for per-tensor int8 in the rows with k_c = 0"))
    # 2. [8, 5] for uint8 asymmetric: min exactly -2, max exactly 127/64 -> range 255/64, scale 2^-6, zero point 128.
    r = rng("asym_8x5")
    w = np.clip(r.standard_normal((8, 5)) * 0.8, -1.95, 1.95)
    flat = w.reshape(-1)
    flat[3], flat[17] = -2.0, 127.0 / 64
    ties = r.choice([i for i in range(40) if i not in (3, 17)], size=8, replace=False)
    flat[ties] = (r.integers(-120, 120, 8) + 0.5) / 64
    out.append(("asym_8x5", w.astype(np.float32),
                "for uint8 asymmetric per tensor: min = -2 and max = 127/64 exactly, so scale = (rmax-rmin)/255 = 2^-6 and "
                "zero point = round(0 - rmin/scale) = 128; eight entries are exact ties (k+1/2)*2^-6"))
    # 3. Conv weight [4, 3, 3, 3] with channel 2's range ~64x the others (per-tensor quantization crushes channels 0, 1, 3).
    r = rng("conv_4x3x3x3")
    e = np.array([-7, -8, -1, -7])               # channel absmax = 127 * 2^e: 0.99, 0.50, 63.5, 0.99
    absmax = 127.0 * 2.0 ** e
    w = r.standard_normal((4, 3, 3, 3)) * (absmax / 3.0)[:, None, None, None]
    w = set_absmax(w, absmax, r)
    w = with_ties(w, e, r, 3)
    out.append(("conv_4x3x3x3", w.astype(np.float32),
                "Conv weight [M=4, C=3, 3, 3]; channel absmax 127*2^e, e = [-7,-8,-1,-7] (0.992, 0.496, 63.5, 0.992): channel 2 "
                "has a 64x larger range, so per-tensor scale 0.5 rounds most of channels 0, 1, 3 to 0 or +-1 while per-channel "
                "keeps them; three exact ties per channel for per-channel int8"))
    # 4. [6, 4] for int4 symmetric per channel: absmax = 7.5 * 2^-k -> scale 2*absmax/15 = 2^-k; ties (j + 1/2) * 2^-k.
    r = rng("int4_6x4")
    k = np.array([2, 3, 1, 2, 4, 0])
    absmax = 7.5 * 2.0 ** -k
    w = np.clip(r.standard_normal((6, 4)), -2.5, 2.5) * (absmax / 2.5)[:, None]
    w = set_absmax(w, absmax, r)
    for c in range(6):
        j = r.choice([1, 2, 3], size=2, replace=False)
        w[c, j] = (r.integers(-7, 7, 2) + 0.5) * 2.0 ** -k[c]
    out.append(("int4_6x4", w.astype(np.float32),
                "for int4 symmetric per channel: row absmax 7.5*2^-k_c, k = [2,3,1,2,4,0], so scale = 2*absmax/15 = 2^-k_c exactly "
                "and two entries per row are exact ties (j+1/2)*2^-k_c. The absmax element itself is a tie too (+-7.5): "
                "+7.5 rounds to 8 and is clipped to 7, -7.5 rounds to -8 and stays (onnxruntime's int4 'symmetric' uses [-8, 7])"))
    return out


def fl(a):
    return [float(x) for x in np.asarray(a, np.float64).reshape(-1)]


def ints(a):
    return [int(x) for x in np.asarray(a).astype(np.int64).reshape(-1)]


def ties_of(w, scale):
    r = (np.asarray(w, np.float32) / np.asarray(scale, np.float32)).astype(np.float64)
    return [int(i) for i in np.flatnonzero(np.abs(r - np.floor(r) - 0.5) == 0)]


def quantize(w, qtype, symmetric, axis):
    if axis is None:
        zp, scale, q = quant_utils.quantize_data(w.flatten(), qtype, symmetric, reduce_range=False, min_real_range=None)
        q = np.asarray(q).reshape(w.shape)
        zps, scales = np.asarray(zp).reshape(()), np.asarray(scale, np.float32).reshape(())
        bscale = scales
    else:
        zl, sl, ql = [], [], []
        for c in range(w.shape[axis]):
            zp, scale, qc = quant_utils.quantize_data(w.take(c, axis).flatten(), qtype, symmetric, reduce_range=False, min_real_range=None)
            zl.append(zp)
            sl.append(scale)
            ql.append(np.asarray(qc).reshape(w.take(c, axis).shape))
        q = np.stack(ql, axis=axis)
        zps, scales = np.asarray(zl).reshape(-1), np.asarray(sl, np.float32).reshape(-1)
        shape = [1] * w.ndim
        shape[axis] = -1
        bscale = scales.reshape(shape)
    qmin, qmax = quant_utils.get_qmin_qmax_for_qType(qtype, reduce_range=False, symmetric=symmetric)
    return zps, scales, q, int(qmin), int(qmax), ties_of(w, bscale)


def dequant(q, scales, zps, axis, rank):
    shape = [-1 if d == axis else 1 for d in range(rank)] if axis is not None else [1] * rank
    return (np.asarray(q, np.float64) - np.asarray(zps, np.float64).reshape(shape)) * np.asarray(scales, np.float64).reshape(shape)


def bf16_bits(x):
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    b = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(x, np.float32))
    b[nan] = (0x7FC0 | ((u[nan] >> 16) & 0x8000)).astype(np.uint16)
    return b


def bf16_values(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


CALL = {
    "int8_symmetric_per_tensor": "onnxruntime.quantization.quant_utils.quantize_data(W.flatten(), TensorProto.INT8, symmetric=True, "
                                 "reduce_range=False, min_real_range=None)",
    "int8_symmetric_per_channel_axis0": "for each c: onnxruntime.quantization.quant_utils.quantize_data(W.take(c, 0).flatten(), "
                                        "TensorProto.INT8, symmetric=True, reduce_range=False, min_real_range=None)",
    "uint8_asymmetric_per_tensor": "onnxruntime.quantization.quant_utils.quantize_data(W.flatten(), TensorProto.UINT8, symmetric=False, "
                                   "reduce_range=False, min_real_range=None)",
    "int4_symmetric_per_channel_axis0": "for each c: onnxruntime.quantization.quant_utils.quantize_data(W.take(c, 0).flatten(), "
                                        "TensorProto.INT4, symmetric=True, reduce_range=False, min_real_range=None)",
}
QUANTIZER = {
    "int8_symmetric_per_tensor": "quantize_static(QDQ, per_channel=False, weight_type=QInt8)",
    "int8_symmetric_per_channel_axis0": "quantize_static(QDQ, per_channel=True, weight_type=QInt8)",
    "uint8_asymmetric_per_tensor": "quantize_static(QDQ, per_channel=False, weight_type=QUInt8)",
    "int4_symmetric_per_channel_axis0": "quantize_static(QDQ, per_channel=True, weight_type=QInt4)",
}


def quantizer_check(name, w, scheme, zps, scales, q):
    """Run quantize_static (QDQ) on a one-node model holding w; compare the weight initializers it writes."""
    import io
    import logging
    import warnings

    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    wt = {"int8_symmetric_per_tensor": (QuantType.QInt8, False), "int8_symmetric_per_channel_axis0": (QuantType.QInt8, True),
          "uint8_asymmetric_per_tensor": (QuantType.QUInt8, False), "int4_symmetric_per_channel_axis0": (QuantType.QInt4, True)}[scheme]
    if w.ndim == 4:
        x_shape = [1, w.shape[1], 5, 5]
        node = helper.make_node("Conv", ["x", "W"], ["y"])
        y_shape = [1, w.shape[0], 3, 3]
    else:
        x_shape = [2, w.shape[1]]
        node = helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)
        y_shape = [2, w.shape[0]]
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TP.FLOAT, x_shape)],
                          [helper.make_tensor_value_info("y", TP.FLOAT, y_shape)], [numpy_helper.from_array(w, "W")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21 if scheme.startswith("int4") else 17)])
    m.ir_version = 10 if scheme.startswith("int4") else 8
    r = rng("calib_" + name)

    class Reader:
        def __init__(self):
            self.items = [{"x": r.standard_normal(x_shape).astype(np.float32)} for _ in range(2)]

        def get_next(self):
            return self.items.pop() if self.items else None

    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger().setLevel(logging.ERROR)
        so, se = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = io.StringIO()
        try:
            src, dst = os.path.join(d, "f.onnx"), os.path.join(d, "q.onnx")
            onnx.save(m, src)
            quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ, per_channel=wt[1], reduce_range=False,
                            activation_type=QuantType.QUInt8, weight_type=wt[0], calibrate_method=CalibrationMethod.MinMax)
            qm = onnx.load(dst)
        finally:
            sys.stdout, sys.stderr = so, se
    inits = {t.name: numpy_helper.to_array(t) for t in qm.graph.initializer}
    got_q, got_s, got_z = inits["W_quantized"], inits["W_scale"], inits["W_zero_point"]
    ok = (np.array_equal(np.asarray(got_q).astype(np.int64), np.asarray(q).astype(np.int64))
          and np.asarray(got_s, np.float32).reshape(-1).tobytes() == np.asarray(scales, np.float32).reshape(-1).tobytes()
          and np.array_equal(np.asarray(got_z).astype(np.int64).reshape(-1), np.asarray(zps).astype(np.int64).reshape(-1)))
    if not ok:
        raise SystemExit(f"{name}/{scheme}: quantize_static's initializers differ from quantize_data's")
    return QUANTIZER[scheme] + " on a one-node " + ("Conv" if w.ndim == 4 else "Gemm(transB=1)") + " model writes the same W_quantized, " \
        "W_scale, W_zero_point"


def build():
    import onnxruntime
    doc = {"format": "kappa-quant-refs/1", "generator": "scripts/make_quant_refs.py",
           "versions": f"onnxruntime {onnxruntime.__version__}, onnx {onnx.__version__}, numpy {np.__version__}, ml_dtypes {ml_dtypes.__version__}",
           "dequantize": "w ~= scale * (q - zero_point); q = clip(round_half_even(float32(w) / float32(scale)) + zero_point, type range)",
           "layout": "values, q, float16/bfloat16 arrays are row-major flat; per-channel scale/zero_point have one entry per index of "
                     "the axis; tie_indices are the flat indices where float32(w)/float32(scale) is exactly k + 1/2",
           "tensors": []}
    for name, w, notes in make_tensors():
        t = {"name": name, "shape": list(w.shape), "notes": notes, "values": fl(w), "schemes": {}}
        for scheme, qtype, sym, axis in SCHEMES:
            zps, scales, q, qmin, qmax, ties = quantize(w, qtype, sym, axis)
            check = quantizer_check(name, w, scheme, zps, scales, q)
            t["schemes"][scheme] = {
                "call": CALL[scheme], "same_as": check, "dtype": {TP.INT8: "int8", TP.UINT8: "uint8", TP.INT4: "int4"}[qtype],
                "symmetric": sym, "axis": axis, "qmin": qmin, "qmax": qmax,
                "scale": fl(scales) if axis is not None else float(scales), "zero_point": ints(zps) if axis is not None else int(zps),
                "q": ints(q), "tie_indices": ties,
                "max_abs_error": float(np.max(np.abs(dequant(q, scales, zps, axis, w.ndim) - w)))}
        h = w.astype(np.float16)
        t["float16"] = {"call": "numpy.ndarray.astype(numpy.float16) (IEEE round to nearest even)", "values": fl(h),
                        "bits": ints(h.view(np.uint16)), "max_abs_error": float(np.max(np.abs(h.astype(np.float64) - w)))}
        b = bf16_bits(w)
        assert np.array_equal(b, w.astype(ml_dtypes.bfloat16).view(np.uint16)), "bfloat16 bit trick disagrees with ml_dtypes"
        t["bfloat16"] = {"call": "round to nearest even on the float32 bits: (u + 0x7FFF + ((u >> 16) & 1)) >> 16 (checked against "
                                 "ml_dtypes.bfloat16)", "values": fl(bf16_values(b)), "bits": ints(b),
                         "max_abs_error": float(np.max(np.abs(bf16_values(b).astype(np.float64) - w)))}
        doc["tensors"].append(t)
    return doc


def dump(doc):
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":"), indent=None).replace('{"name"', '\n{"name"') + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outfile")
    ap.add_argument("--verify", action="store_true", help="recompute and compare with the stored file")
    a = ap.parse_args()
    text = dump(build())
    if a.verify:
        with open(a.outfile) as fh:
            same = fh.read() == text
        print("quant refs: identical to a fresh computation" if same else "quant refs: DIFFER from a fresh computation")
        sys.exit(0 if same else 1)
    os.makedirs(os.path.dirname(os.path.abspath(a.outfile)), exist_ok=True)
    with open(a.outfile, "w") as fh:
        fh.write(text)
    print(f"wrote {a.outfile} ({len(text)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
