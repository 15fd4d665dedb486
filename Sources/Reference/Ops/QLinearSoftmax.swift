import ONNX

/// com.microsoft QLinearSoftmax(X, X_scale, X_zero_point, Y_scale, Y_zero_point; axis,
/// opset): y = saturate(round(softmax(x̃)/Y_scale) + Y_zero_point), x̃ = (x − X_zp)·X_scale,
/// with Softmax's axis semantics of the `opset` attribute (< 13: the input coerced to 2-D).
/// VJP: the straight-through estimator of ``QuantizedKernel``.
enum QLinearSoftmax {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let inner = try Softmax.make(c.inner("Softmax", shapes: [try c.shape(0)], drop: ["opset"],
                                             opset: c.node.int("opset") ?? c.opset))
        return QuantizedKernel(inner: inner, operands: [try c.quantOperand(0, scale: 1, zero: 2, axis: 1).0],
                               outScale: 3, outZero: 4, dtype: try c.quantType(zero: 4, fallback: c.dtype(0)))
    }
}
