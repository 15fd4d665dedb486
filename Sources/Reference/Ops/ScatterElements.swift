import ONNX

/// ScatterElements(data, indices, updates, axis = 0, reduction = none): for every element
/// of updates (shaped like indices), out[i₀…idx…iₙ] = updates[i₀…iₙ] with idx =
/// indices[i₀…iₙ] on `axis`, in a copy of data (see ``ScatterKernel`` for the reductions and
/// the VJP). Indices (negative ones count from the end) are read at run time.
struct ScatterElements: ScatterKernel {
    let node: String
    let reduction: String
    let data: [Int]
    let axis: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0), ind = try c.shape(1), up = try c.shape(2)
        let axis = try c.axis(c.node.int("axis") ?? 0, rank: x.count)
        guard ind == up, ind.count == x.count, ind.indices.allSatisfy({ $0 == axis || ind[$0] <= x[$0] }) else {
            throw c.fail("indices \(ind) and updates \(up) do not fit data \(x)")
        }
        return ScatterElements(node: c.name, reduction: try c.scatterReduction(), data: x, axis: axis)
    }

    func targets(_ inputs: [Value?]) throws(ReferenceError) -> [Int] {
        guard let ind = inputs[1] else { throw .badNode(node: node, op: "ScatterElements", reason: "missing indices") }
        let strides = Shapes.strides(data), shape = ind.shape
        var out = [Int](repeating: 0, count: ind.count)
        var idx = [Int](repeating: 0, count: shape.count)
        for i in 0..<ind.count {
            guard let j = wrapIndex(ind.data[i], data[axis]) else {
                throw .badNode(node: node, op: "ScatterElements", reason: "index \(ind.data[i]) is out of range for extent \(data[axis])")
            }
            var off = 0
            for a in shape.indices { off += (a == axis ? j : idx[a]) * strides[a] }
            out[i] = off
            var a = shape.count - 1
            while a >= 0 { idx[a] += 1; if idx[a] < shape[a] { break }; idx[a] = 0; a -= 1 }
        }
        return out
    }
}
