import ONNX

/// DynamicQuantizeLinear(x) → (y UINT8, y_scale FLOAT, y_zero_point UINT8): the range
/// [min(0, min x), max(0, max x)] is mapped onto [0, 255]: scale = (max − min)/255,
/// zero_point = saturate(round(−min/scale)), y = saturate(round(x/scale) + zero_point),
/// rounding half to even (an all-zero x gives scale 0, zero point 0, y = 0).
/// VJP (straight-through): dx = g_y / scale where y did not saturate; the scale and zero
/// point are treated as constants (their cotangents are dropped), so that
/// DequantizeLinear∘DynamicQuantizeLinear has the identity's gradient.
struct DynamicQuantizeLinear: Kernel {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        guard c.dtype(0).isFloatingPoint else { throw c.fail("x must be floating point, got \(c.dtype(0))") }
        return DynamicQuantizeLinear()
    }

    /// The scale and zero point for values `x`.
    static func parameters(_ x: [Float]) -> (scale: Float, zero: Float) {
        var lo: Float = 0, hi: Float = 0
        for v in x where !v.isNaN { lo = min(lo, v); hi = max(hi, v) }
        let scale = (hi - lo) / 255
        guard scale > 0, scale.isFinite else { return (0, 0) }
        return (scale, quantize(-lo / scale, zero: 0, lo: 0, hi: 255).0)
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        let (s, z) = Self.parameters(x.data)
        let y = x.data.map { s > 0 ? quantize($0 / s, zero: z, lo: 0, hi: 255).0 : z }
        return [Value(shape: x.shape, data: y, dtype: .uint8), Value(shape: [], data: [s]),
                Value(shape: [], data: [z], dtype: .uint8)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let x = a.inputs[0], a.wants[0] else { return [nil] }
        let (s, z) = Self.parameters(x.data)
        let n = x.count
        var g = [Float](repeating: 0, count: a.rows * n)
        guard s > 0, a.grads[0].count == a.rows * n else { return [g] }
        for i in 0..<n where quantize(x.data[i] / s, zero: z, lo: 0, hi: 255).1 {
            for r in 0..<a.rows { g[r * n + i] = a.grads[0][r * n + i] / s }
        }
        return [g]
    }
}
