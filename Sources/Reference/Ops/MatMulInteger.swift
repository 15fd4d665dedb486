import ONNX

/// MatMulInteger(A, B, a_zero_point?, b_zero_point?): the INT32 product (A − a_zp)·(B − b_zp)
/// with MatMul's broadcasting; a_zp per row (M values) or per tensor, b_zp per column (N
/// values) or per tensor; zero points may be computed (DynamicQuantizeLinear's). Exact while
/// partial sums stay below 2²⁴ (float32). The map is bilinear: its VJP is MatMul's with the
/// shifted operands (the straight-through view of the integer result).
enum MatMulInteger {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let a = try c.shape(0), b = try c.shape(1)
        let (aOp, _) = try c.quantOperand(0, scale: nil, zero: 2, axis: max(a.count - 2, 0))
        let (bOp, bt) = try c.quantOperand(1, scale: nil, zero: 3, axis: b.count - 1)
        let inner = try MatMul.make(c.inner("MatMul", shapes: [a, b], constants: [nil, bt]))
        return QuantizedKernel(inner: inner, operands: [aOp, bOp], dtype: .int32)
    }
}
