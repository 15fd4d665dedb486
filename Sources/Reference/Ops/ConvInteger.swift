import ONNX

/// ConvInteger(x, w, x_zero_point?, w_zero_point?) with Conv's attributes: the INT32
/// convolution of (x − x_zp) with (w − w_zp) (w_zp per output channel when it has M values);
/// padding contributes x_zp, i.e. 0. Exact while partial sums stay below 2²⁴ (float32). The
/// weight must be constant. The map is linear in x: its VJP is the Conv adjoint with
/// (w − w_zp) (the straight-through view of the integer result).
enum ConvInteger {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let (_, wt) = try c.quantOperand(1, scale: nil, zero: 3, axis: 0)
        guard let wt else { throw c.fail("the weight must be a constant") }
        let inner = try Conv.make(c.inner("Conv", shapes: [try c.shape(0), try c.shape(1)], constants: [nil, wt]))
        let (xOp, _) = try c.quantOperand(0, scale: nil, zero: 2, axis: 1)
        return QuantizedKernel(inner: inner, operands: [xOp, .fixed(Value(shape: wt.dims, data: wt.floats()))], dtype: .int32)
    }
}
