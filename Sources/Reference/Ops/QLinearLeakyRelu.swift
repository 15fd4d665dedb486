import ONNX

/// com.microsoft QLinearLeakyRelu(X, X_scale, X_zero_point, Y_scale, Y_zero_point;
/// alpha = 0.01): y = saturate(round(leakyrelu(x̃)/Y_scale) + Y_zero_point),
/// x̃ = (x − X_zp)·X_scale. VJP: the straight-through estimator of ``QuantizedKernel``.
enum QLinearLeakyRelu {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        QuantizedKernel(inner: LeakyRelu(alpha: c.node.float("alpha") ?? 0.01).kernel(),
                        operands: [try c.quantOperand(0, scale: 1, zero: 2, axis: 1).0],
                        outScale: 3, outZero: 4, dtype: try c.quantType(zero: 4, fallback: c.dtype(0)))
    }
}
