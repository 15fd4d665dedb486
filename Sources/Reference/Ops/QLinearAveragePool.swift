import ONNX

/// com.microsoft QLinearAveragePool(X, x_scale, x_zero_point, y_scale, y_zero_point) with
/// AveragePool's attributes (kernel_shape, strides, pads/auto_pad, ceil_mode,
/// count_include_pad; channels_last = 0 only): y = saturate(round(avgpool(x̃)/y_scale) +
/// y_zero_point), x̃ = (x − x_zp)·x_scale, padding excluded from the average unless
/// count_include_pad. VJP: the straight-through estimator of ``QuantizedKernel``.
enum QLinearAveragePool {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        if c.node.int("channels_last") == 1 { throw c.fail("channels_last = 1 is not supported") }
        let inner = try AveragePool.make(c.inner("AveragePool", shapes: [try c.shape(0)], drop: ["channels_last"]))
        return QuantizedKernel(inner: inner, operands: [try c.quantOperand(0, scale: 1, zero: 2, axis: 1).0],
                               outScale: 3, outZero: 4, dtype: try c.quantType(zero: 4, fallback: c.dtype(0)))
    }
}
