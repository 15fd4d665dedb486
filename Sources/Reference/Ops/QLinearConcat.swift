import ONNX

/// com.microsoft QLinearConcat(Y_scale, Y_zero_point, X₀, X₀_scale, X₀_zero_point, X₁, …;
/// axis): each input dequantized with its own parameters, concatenated along `axis`, and
/// requantized with Y's: y = saturate(round(x̃/Y_scale) + Y_zero_point) (an input that
/// already has Y's parameters is copied unchanged). VJP: the straight-through estimator of
/// ``QuantizedKernel`` (dXᵢ = g·Xᵢ_scale/Y_scale where y did not saturate).
enum QLinearConcat {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let n = c.shapes.count - 2
        guard n >= 3, n % 3 == 0 else { throw c.fail("expects Y_scale, Y_zero_point and (X, scale, zero point) triples") }
        var shapes: [[Int]?] = []
        var operands: [QuantOperand] = []
        for k in stride(from: 2, to: c.shapes.count, by: 3) {
            shapes.append(try c.shape(k))
            operands.append(try c.quantOperand(k, scale: k + 1, zero: k + 2, axis: 0).0)
        }
        let inner = try Concat.make(c.inner("Concat", shapes: shapes))
        return QuantizedKernel(inner: inner, operands: operands, outScale: 0, outZero: 1,
                               dtype: try c.quantType(zero: 1, fallback: c.dtype(2)))
    }
}
