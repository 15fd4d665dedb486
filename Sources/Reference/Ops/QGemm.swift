import ONNX

/// com.microsoft QGemm(A, a_scale, a_zero_point, B, b_scale, b_zero_point, C?, y_scale?,
/// y_zero_point?; alpha = 1, transA, transB): Y = alpha·op(Ã)·op(B̃) + C̃ with Ã = (A − a_zp)·
/// a_scale, B̃ = (B − b_zp)·b_scale (per output column when b_scale has N values) and the
/// INT32 C at scale alpha·a_scale·b_scale (C̃ = C·alpha·a_scale·b_scale). With y_scale the
/// result is quantized (saturate(round(Y/y_scale) + y_zp)); without it Y is FLOAT. The
/// weights B and C must be constant. VJP: the straight-through estimator of
/// ``QuantizedKernel`` (Gemm's VJP with Ã, B̃; 0 where a quantized Y saturated).
enum QGemm {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let a = try c.shape(0), b = try c.shape(3)
        let transB = c.node.int("transB") == 1
        let alpha = c.node.float("alpha") ?? 1
        let (bOp, bt) = try c.quantOperand(3, scale: 4, zero: 5, axis: transB ? 0 : 1)
        var shapes: [[Int]?] = [a, b]
        var constants: [Tensor?] = [nil, bt]
        var operands: [QuantOperand] = [try c.quantOperand(0, scale: 1, zero: 2, axis: 0).0, bOp]
        if c.has(6) {
            let cs = try c.shape(6)
            let aScale = try c.constantFloats(1)?.first ?? 1
            let scale = (try c.constantFloats(4) ?? [1]).map { $0 * alpha * aScale }
            let (cOp, ct) = try c.quantOperand(6, scale: nil, zero: nil, axis: max(cs.count - 1, 0), extraScale: scale)
            shapes.append(cs)
            constants.append(ct)
            operands.append(cOp)
        }
        let inner = try Gemm.make(c.inner("Gemm", shapes: shapes, constants: constants, extra: ["beta": .float(1)]))
        guard c.has(7) else { return QuantizedKernel(inner: inner, operands: operands, dtype: .float) }
        return QuantizedKernel(inner: inner, operands: operands, outScale: 7, outZero: c.has(8) ? 8 : nil,
                               dtype: try c.quantType(zero: 8))
    }
}
