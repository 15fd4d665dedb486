import ONNX

/// TopK: the k largest (`largest` = 1, default) or smallest elements along `axis`
/// (default −1), k from the constant input K (opset ≥ 10) or the attribute `k`. Outputs
/// Values (the input's type) and Indices (INT64), sorted (the `sorted` = 0 order is also
/// the sorted one here); equal values keep the lower index first, as onnxruntime does.
/// VJP: each Values cotangent goes to the element it was taken from; Indices carry no
/// gradient.
struct TopK: Kernel {
    let outer: Int, n: Int, inner: Int, k: Int
    let largest: Bool
    let shape: [Int]

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let a = try c.axis(c.node.int("axis") ?? -1, rank: max(x.count, 1))
        guard a < x.count else { throw c.fail("TopK of a scalar") }
        let k: Int
        if c.opset >= 10 {
            guard let v = try c.constantInts(1), v.count == 1 else { throw c.fail("K must be a one-element tensor") }
            k = v[0]
        } else {
            guard let v = c.node.int("k") else { throw c.fail("missing attribute 'k'") }
            k = v
        }
        guard k >= 0, k <= x[a] else { throw c.fail("k = \(k) is out of range for extent \(x[a])") }
        var out = x
        out[a] = k
        return TopK(outer: x[..<a].reduce(1, *), n: x[a], inner: x[(a + 1)...].reduce(1, *), k: k,
                    largest: (c.node.int("largest") ?? 1) != 0, shape: out)
    }

    /// The selected positions along the axis, per (outer, inner) line.
    func selection(_ x: [Float]) -> [Int] {
        var sel = [Int](repeating: 0, count: outer * k * inner)
        var order = Array(0..<n)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                order = Array(0..<n)
                order.sort { p, q in
                    let u = x[base + p * inner], v = x[base + q * inner]
                    if u == v || (u.isNaN && v.isNaN) { return p < q }
                    if u.isNaN { return largest }
                    if v.isNaN { return !largest }
                    return largest ? u > v : u < v
                }
                for j in 0..<k { sel[(o * k + j) * inner + i] = order[j] }
            }
        }
        return sel
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        let sel = selection(x.data)
        var values = [Float](repeating: 0, count: sel.count)
        for o in 0..<outer {
            for j in 0..<k {
                for i in 0..<inner {
                    let s = (o * k + j) * inner + i
                    values[s] = x.data[o * n * inner + sel[s] * inner + i]
                }
            }
        }
        return [Value(shape: shape, data: values, dtype: x.dtype), Value(shape: shape, data: sel.map(Float.init), dtype: .int64)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let x = a.inputs[0], a.wants[0] else { return [nil, nil] }
        let sel = selection(x.data)
        let inCount = x.count, outCount = sel.count
        var g = [Float](repeating: 0, count: a.rows * inCount)
        guard a.grads[0].count == a.rows * outCount else { return [g, nil] }
        for r in 0..<a.rows {
            for o in 0..<outer {
                for j in 0..<k {
                    for i in 0..<inner {
                        let s = (o * k + j) * inner + i
                        g[r * inCount + o * n * inner + sel[s] * inner + i] += a.grads[0][r * outCount + s]
                    }
                }
            }
        }
        return [g, nil]
    }
}
