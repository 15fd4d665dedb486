import ONNX

/// ArgMax and ArgMin along `axis` (default 0), `keepdims` (default 1),
/// `select_last_index` (default 0: the first extreme wins ties, 1: the last). The input is
/// viewed as (outer, n, inner); the result is INT64. NaN never wins a comparison. Piecewise
/// constant: no gradient (zero cotangent for a float input).
struct ArgMax: Kernel {
    let outer: Int, n: Int, inner: Int
    let shape: [Int]
    let isMax: Bool
    let last: Bool

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, isMax: true) }
    static func makeMin(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, isMax: false) }

    static func build(_ c: KernelContext, isMax: Bool) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let a = try c.axis(c.node.int("axis") ?? 0, rank: max(x.count, 1))
        guard a < x.count, x[a] > 0 else { throw c.fail("cannot take an arg-extreme over an empty axis of \(x)") }
        var out = x
        if (c.node.int("keepdims") ?? 1) != 0 { out[a] = 1 } else { out.remove(at: a) }
        return ArgMax(outer: x[..<a].reduce(1, *), n: x[a], inner: x[(a + 1)...].reduce(1, *), shape: out,
                      isMax: isMax, last: c.node.int("select_last_index") == 1)
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        var y = [Float](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var best = x.data[base], at = 0
                for j in 1..<n {
                    let v = x.data[base + j * inner]
                    let better = isMax ? v > best : v < best
                    if better || (last && v == best) || (best.isNaN && !v.isNaN) { best = v; at = j }
                }
                y[o * inner + i] = Float(at)
            }
        }
        return [Value(shape: shape, data: y, dtype: .int64)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        [a.wants[0] ? .zeros(a.rows * outer * n * inner) : nil]
    }
}
