import ONNX

/// QLinearConv(x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point,
/// B?) with Conv's attributes: y = saturate(round(conv(x̃, w̃) + b̃)/y_scale) + y_zero_point)
/// where x̃ = (x − x_zp)·x_scale, w̃ = (w − w_zp)·w_scale (per output channel when w_scale
/// has M values) and b̃ = B·x_scale·w_scale (INT32 bias). Padding contributes x_zp, i.e. 0
/// after the shift. Mathematically this is onnxruntime's integer accumulation requantized
/// by x_scale·w_scale/y_scale; the float evaluation can round a .5 tie the other way (one
/// step). The weight must be constant. VJP: the straight-through estimator of
/// ``QuantizedKernel`` (the Conv adjoint with w̃, times x_scale/y_scale, 0 where y saturated).
enum QLinearConv {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0), w = try c.shape(3)
        let xs = try c.constantFloats(1) ?? [1]
        let (_, wt) = try c.quantOperand(3, scale: 4, zero: 5, axis: 0)
        guard let wt else { throw c.fail("the weight must be a constant") }
        var shapes: [[Int]?] = [x, w]
        var constants: [Tensor?] = [nil, wt]
        if c.has(8) {
            let ws = try c.constantFloats(4) ?? [1]
            let (_, bt) = try c.quantOperand(8, scale: nil, zero: nil, axis: 0, extraScale: ws.map { $0 * (xs.first ?? 1) })
            shapes.append(try c.shape(8))
            constants.append(bt)
        }
        let inner = try Conv.make(c.inner("Conv", shapes: shapes, constants: constants))
        let (xOp, _) = try c.quantOperand(0, scale: 1, zero: 2, axis: 1)
        return QuantizedKernel(inner: inner, operands: [xOp] + constants.dropFirst().map { .fixed(Value(shape: $0?.dims ?? [], data: $0?.floats() ?? [])) },
                               outScale: 6, outZero: 7, dtype: try c.quantType(zero: 7, fallback: c.dtype(0)))
    }
}
