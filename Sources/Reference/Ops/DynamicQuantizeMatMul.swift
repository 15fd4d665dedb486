import ONNX

/// com.microsoft DynamicQuantizeMatMul(A, B, b_scale, b_zero_point?, bias?): A (FLOAT) is
/// quantized to UINT8 on the fly as DynamicQuantizeLinear does, then Y = Ã·B̃ + bias with
/// Ã = (A_q − a_zp)·a_scale, B̃ = (B − b_zp)·b_scale (per column when b_scale has N values).
/// VJP: straight through the dynamic quantization (identity), then MatMul's with B̃.
enum DynamicQuantizeMatMul {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let a = try c.shape(0), b = try c.shape(1)
        let (bOp, bt) = try c.quantOperand(1, scale: 2, zero: 3, axis: b.count - 1)
        let inner = try MatMul.make(c.inner("MatMul", shapes: [a, b], constants: [nil, bt]))
        return QuantizedKernel(inner: inner, operands: [.dynamic(value: 0), bOp], bias: c.has(4) ? 4 : nil, dtype: .float)
    }
}
