import ONNX

/// com.microsoft QLinearSigmoid(X, X_scale, X_zero_point, Y_scale, Y_zero_point):
/// y = saturate(round(σ(x̃)/Y_scale) + Y_zero_point), x̃ = (x − X_zp)·X_scale (onnxruntime
/// tabulates the same map over the 256 codes). VJP: the straight-through estimator of
/// ``QuantizedKernel`` (g·σ′(x̃)·X_scale/Y_scale where y did not saturate).
enum QLinearSigmoid {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        QuantizedKernel(inner: Sigmoid().kernel(), operands: [try c.quantOperand(0, scale: 1, zero: 2, axis: 1).0],
                        outScale: 3, outZero: 4, dtype: try c.quantType(zero: 4, fallback: c.dtype(0)))
    }
}
