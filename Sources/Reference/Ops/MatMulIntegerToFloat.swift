import ONNX

/// com.microsoft MatMulIntegerToFloat(A, B, a_scale, b_scale, a_zero_point?,
/// b_zero_point?, bias?): Y = (A − a_zp)·(B − b_zp)·a_scale·b_scale + bias, FLOAT, with
/// MatMul's broadcasting (b_scale, b_zp per column when they have N values; bias along the
/// last axis). VJP: MatMul's with the dequantized operands (straight-through).
enum MatMulIntegerToFloat {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let a = try c.shape(0), b = try c.shape(1)
        let (aOp, _) = try c.quantOperand(0, scale: 2, zero: 4, axis: max(a.count - 2, 0))
        let (bOp, bt) = try c.quantOperand(1, scale: 3, zero: 5, axis: b.count - 1)
        let inner = try MatMul.make(c.inner("MatMul", shapes: [a, b], constants: [nil, bt]))
        return QuantizedKernel(inner: inner, operands: [aOp, bOp], bias: c.has(6) ? 6 : nil, dtype: .float)
    }
}
