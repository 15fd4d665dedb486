import ONNX

/// GatherElements(data, indices, axis = 0): out[i₀…iₙ] = data[i₀…idx…iₙ] with
/// idx = indices[i₀…iₙ] replacing the coordinate on `axis` (negative indices count from the
/// end); the output has the indices' shape (each extent ≤ data's off the axis). Indices are
/// read at run time. A gather; the VJP scatter-adds (repeated indices accumulate).
struct GatherElements: RuntimeGather {
    let node: String
    let data: [Int]
    let axis: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0), ind = try c.shape(1)
        let axis = try c.axis(c.node.int("axis") ?? 0, rank: x.count)
        guard ind.count == x.count, ind.indices.allSatisfy({ $0 == axis || ind[$0] <= x[$0] }) else {
            throw c.fail("indices \(ind) do not fit data \(x)")
        }
        return GatherElements(node: c.name, data: x, axis: axis)
    }

    func table(_ inputs: [Value?]) throws(ReferenceError) -> TableKernel {
        guard let ind = inputs[1] else { throw .badNode(node: node, op: "GatherElements", reason: "missing indices") }
        let strides = Shapes.strides(data), shape = ind.shape
        var table = [Int32](repeating: 0, count: ind.count)
        var idx = [Int](repeating: 0, count: shape.count)
        for i in 0..<ind.count {
            guard let j = wrapIndex(ind.data[i], data[axis]) else {
                throw .badNode(node: node, op: "GatherElements", reason: "index \(ind.data[i]) is out of range for extent \(data[axis])")
            }
            var off = 0
            for a in shape.indices { off += (a == axis ? j : idx[a]) * strides[a] }
            table[i] = Int32(off)
            var a = shape.count - 1
            while a >= 0 { idx[a] += 1; if idx[a] < shape[a] { break }; idx[a] = 0; a -= 1 }
        }
        return TableKernel(shape: shape, table: table, inCount: data.reduce(1, *))
    }
}
