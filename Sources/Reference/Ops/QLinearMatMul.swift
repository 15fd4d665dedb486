import ONNX

/// QLinearMatMul(a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point):
/// y = saturate(round(ã·b̃ / y_scale) + y_zero_point) with MatMul's broadcasting, ã =
/// (a − a_zp)·a_scale (per row when a_scale has M values), b̃ = (b − b_zp)·b_scale (per
/// column when b_scale has N values). Equal to onnxruntime's integer product requantized by
/// a_scale·b_scale/y_scale up to a .5 tie rounded the other way. VJP: the straight-through
/// estimator of ``QuantizedKernel`` (MatMul's VJP with ã, b̃; 0 where y saturated).
enum QLinearMatMul {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let a = try c.shape(0), b = try c.shape(3)
        let (aOp, _) = try c.quantOperand(0, scale: 1, zero: 2, axis: max(a.count - 2, 0))
        let (bOp, bt) = try c.quantOperand(3, scale: 4, zero: 5, axis: b.count - 1)
        let inner = try MatMul.make(c.inner("MatMul", shapes: [a, b], constants: [nil, bt]))
        let out = try QuantLayout.make(c, value: try outShape(a, b, c), scale: try c.shape(6), axis: -1)
        return QuantizedKernel(inner: inner, operands: [aOp, bOp], outScale: 6, outZero: 7, outLayout: out,
                               dtype: try c.quantType(zero: 7, fallback: c.dtype(0)))
    }

    /// MatMul's result shape for operands `a`, `b`.
    static func outShape(_ a: [Int], _ b: [Int], _ c: KernelContext) throws(ReferenceError) -> [Int] {
        let aa = a.count == 1 ? [1] + a : a, bb = b.count == 1 ? b + [1] : b
        guard let batch = Shapes.broadcast(Array(aa.dropLast(2)), Array(bb.dropLast(2))) else {
            throw c.fail("batch dimensions of \(a) and \(b) do not broadcast")
        }
        return batch + (a.count > 1 ? [aa[aa.count - 2]] : []) + (b.count > 1 ? [bb[bb.count - 1]] : [])
    }
}
