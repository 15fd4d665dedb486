import ONNX

/// com.microsoft QLinearGlobalAveragePool(X, x_scale, x_zero_point, y_scale, y_zero_point;
/// channels_last = 0): y = saturate(round(mean_spatial(x̃)/y_scale) + y_zero_point),
/// x̃ = (x − x_zp)·x_scale, over (N, C, spatial…) (channels_last = 1 is not supported).
/// VJP: the straight-through estimator of ``QuantizedKernel`` (g·x_scale/(y_scale·S) where
/// y did not saturate, S the spatial size).
enum QLinearGlobalAveragePool {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        if c.node.int("channels_last") == 1 { throw c.fail("channels_last = 1 is not supported") }
        let inner = try GlobalAveragePool.make(c.inner("GlobalAveragePool", shapes: [try c.shape(0)]))
        return QuantizedKernel(inner: inner, operands: [try c.quantOperand(0, scale: 1, zero: 2, axis: 1).0],
                               outScale: 3, outZero: 4, dtype: try c.quantType(zero: 4, fallback: c.dtype(0)))
    }
}
