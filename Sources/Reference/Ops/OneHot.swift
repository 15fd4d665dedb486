import ONNX

/// OneHot(indices, depth, values = [off, on], axis = −1): a new axis of extent `depth`
/// inserted at `axis`; out = on where the position equals the index (negative indices count
/// from depth; out-of-range ones give a row of `off`), else off. The result has values'
/// type. Indices and depth are read at run time; indices have no gradient. VJP for values:
/// d off = Σ g over the off positions, d on = Σ g over the on positions.
struct OneHot: Kernel {
    let node: String
    let axis: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let ind = try c.shape(0)
        guard try c.shape(2).reduce(1, *) == 2 else { throw c.fail("values must hold [off, on]") }
        return OneHot(node: c.name, axis: try c.axis(c.node.int("axis") ?? -1, rank: ind.count + 1))
    }

    /// (outer, depth, inner) and, per output element, whether it is hot.
    func layout(_ inputs: [Value?]) throws(ReferenceError) -> (shape: [Int], hot: [Bool]) {
        guard let ind = inputs[0], let d = inputs[1]?.data.first else { throw .badNode(node: node, op: "OneHot", reason: "missing indices or depth") }
        let depth = Int(saturatingInt64(d))
        guard depth >= 0, depth <= Engine.maxElements / max(ind.count, 1) else {
            throw .badNode(node: node, op: "OneHot", reason: "depth \(depth) is out of range")
        }
        var shape = ind.shape
        shape.insert(depth, at: axis)
        let outer = ind.shape[..<axis].reduce(1, *), inner = ind.shape[axis...].reduce(1, *)
        var hot = [Bool](repeating: false, count: outer * depth * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                if let j = wrapIndex(ind.data[o * inner + i], depth) { hot[(o * depth + j) * inner + i] = true }
            }
        }
        return (shape, hot)
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let values = inputs[2] else { return [] }
        let (shape, hot) = try layout(inputs)
        return [Value(shape: shape, data: hot.map { values.data[$0 ? 1 : 0] }, dtype: values.dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard a.wants.count > 2, a.wants[2] else { return [nil, nil, nil] }
        let (_, hot) = try layout(a.inputs)
        var g = [Float](repeating: 0, count: 2 * a.rows)
        for r in 0..<a.rows {
            for (i, h) in hot.enumerated() { g[2 * r + (h ? 1 : 0)] += a.grad[r * hot.count + i] }
        }
        return [nil, nil, g]
    }
}
