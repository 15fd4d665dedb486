/// Split along `axis` into parts given by the `split` attribute (opset < 13), a constant
/// input (opset ≥ 13), or equal parts (`num_outputs`, opset 18, or the output count).
/// The VJP concatenates the outputs' cotangents (zeros for unused outputs).
struct Split: Kernel {
    let shapes: [[Int]]
    let outer: Int
    let widths: [Int]

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let axis = try c.axis(c.node.int("axis") ?? 0, rank: x.count)
        let n = c.node.outputs.count
        var parts = c.opset < 13 ? c.node.ints("split") : try c.constantInts(1)
        if parts == nil {
            let k = c.node.int("num_outputs") ?? n
            guard k >= 1 else { throw c.fail("cannot split into \(k) parts") }
            let size = (x[axis] + k - 1) / k
            parts = (0..<k).map { i in max(0, min(size, x[axis] - i * size)) }
        }
        guard let parts, parts.count == n, parts.reduce(0, +) == x[axis], parts.allSatisfy({ $0 >= 0 }) else {
            throw c.fail("split \(parts ?? []) does not divide extent \(x[axis]) into \(n) outputs")
        }
        let inner = x[(axis + 1)...].reduce(1, *)
        return Split(shapes: parts.map { p in var s = x; s[axis] = p; return s },
                     outer: x[..<axis].reduce(1, *), widths: parts.map { $0 * inner })
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        let total = widths.reduce(0, +)
        var col = 0
        var outs: [Value] = []
        for (s, w) in zip(shapes, widths) {
            var y = [Float](repeating: 0, count: outer * w)
            for o in 0..<outer { for j in 0..<w { y[o * w + j] = x.data[o * total + col + j] } }
            outs.append(Value(shape: s, data: y, dtype: x.dtype))
            col += w
        }
        return outs
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let total = widths.reduce(0, +)
        var g = [Float](repeating: 0, count: a.rows * outer * total)
        var col = 0
        for (k, w) in widths.enumerated() {
            for r in 0..<a.rows {
                for o in 0..<outer {
                    let dst = r * outer * total + o * total + col, src = r * outer * w + o * w
                    for j in 0..<w { g[dst + j] = a.grads[k][src + j] }
                }
            }
            col += w
        }
        return [g] + Array(repeating: nil, count: max(0, a.inputs.count - 1))
    }
}
