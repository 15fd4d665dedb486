import ONNX

/// com.microsoft QLinearAdd(A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale,
/// C_zero_point): C = saturate(round((Ã + B̃)/C_scale) + C_zero_point), Ã = (A − A_zp)·A_scale,
/// B̃ likewise, numpy broadcasting. VJP: the straight-through estimator of
/// ``QuantizedKernel`` (dA = g·A_scale/C_scale where C did not saturate, dB likewise).
enum QLinearAdd {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let inner = try BinaryOp<AddOp>.make(c.inner("Add", shapes: [try c.shape(0), try c.shape(3)]))
        return QuantizedKernel(inner: inner, operands: [try c.quantOperand(0, scale: 1, zero: 2, axis: 0).0,
                                                        try c.quantOperand(3, scale: 4, zero: 5, axis: 0).0],
                               outScale: 6, outZero: 7, dtype: try c.quantType(zero: 7, fallback: c.dtype(0)))
    }
}
