import ONNX

/// CumSum(X, axis): running sums along the axis (a constant scalar input), the input's
/// type. `exclusive` = 1 leaves the current element out (the first sum is 0); `reverse` = 1
/// runs from the end. The map is linear; its VJP is the cumulative sum of the cotangent in
/// the opposite direction with the same exclusivity.
struct CumSum: Kernel {
    let outer: Int, n: Int, inner: Int
    let exclusive: Bool
    let reverse: Bool

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard let axis = try c.constantInts(1), axis.count == 1 else { throw c.fail("axis must be a one-element tensor") }
        let a = try c.axis(axis[0], rank: x.count)
        return CumSum(outer: x[..<a].reduce(1, *), n: x[a], inner: x[(a + 1)...].reduce(1, *),
                      exclusive: c.node.int("exclusive") == 1, reverse: c.node.int("reverse") == 1)
    }

    /// Cumulative sums of `rows` stacked tensors, in direction `backwards`.
    func scan(_ x: [Float], rows: Int, backwards: Bool) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        let count = outer * n * inner
        for r in 0..<rows {
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = r * count + o * n * inner + i
                    var s: Float = 0
                    for t in 0..<n {
                        let j = base + (backwards ? n - 1 - t : t) * inner
                        if exclusive { y[j] = s; s += x[j] } else { s += x[j]; y[j] = s }
                    }
                }
            }
        }
        return y
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        return [Value(shape: x.shape, data: scan(x.data, rows: 1, backwards: reverse), dtype: x.dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        [a.wants[0] ? scan(a.grad, rows: a.rows, backwards: !reverse) : nil, nil]
    }
}
