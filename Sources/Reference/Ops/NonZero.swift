import ONNX

/// NonZero(X): the coordinates of the nonzero elements (NaN counts as nonzero), as INT64
/// of shape (rank, count), row-major order; a scalar gives (0, count). Integer output: no
/// gradient (zero cotangent for X).
struct NonZero: Kernel {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { _ = try c.shape(0); return NonZero() }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        let r = x.shape.count, strides = Shapes.strides(x.shape)
        let hits = x.data.indices.filter { x.data[$0] != 0 }
        var y = [Float](repeating: 0, count: r * hits.count)
        for (k, flat) in hits.enumerated() {
            var rest = flat
            for a in 0..<r {
                y[a * hits.count + k] = Float(rest / strides[a])
                rest %= strides[a]
            }
        }
        return [Value(shape: [r, hits.count], data: y, dtype: .int64)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        [a.wants[0] ? .zeros(a.rows * (a.inputs[0]?.count ?? 0)) : nil]
    }
}
