import ONNX

/// Gather(data, indices, axis = 0): out = data[..., indices, ...], output shape
/// data[:axis] + indices.shape + data[axis+1:]; negative indices count from the end.
/// Constant indices build the offset table once; computed ones (token ids fed as the
/// perturbed input, indices derived from it) are read at every call. A gather; the VJP
/// scatter-adds into data (repeated indices accumulate), indices have no gradient.
struct Gather: RuntimeGather {
    let node: String
    let data: [Int]
    let axis: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        _ = try c.shape(1)
        let g = Gather(node: c.name, data: x, axis: try c.axis(c.node.int("axis") ?? 0, rank: x.count))
        do throws(ReferenceError) {
            guard let ind = try c.constant(1) else { throw c.fail("missing indices") }
            return try g.table(ind.dims, ind.int64s().map { Float($0) })
        } catch .notConstant {
            return g
        }
    }

    func table(_ inputs: [Value?]) throws(ReferenceError) -> TableKernel {
        guard let ind = inputs[1] else { throw .badNode(node: node, op: "Gather", reason: "missing indices") }
        return try table(ind.shape, ind.data)
    }

    func table(_ shape: [Int], _ values: [Float]) throws(ReferenceError) -> TableKernel {
        var idx: [Int] = []
        idx.reserveCapacity(values.count)
        for v in values {
            guard let j = wrapIndex(v, data[axis]) else {
                throw .badNode(node: node, op: "Gather", reason: "index \(v) is out of range for extent \(data[axis])")
            }
            idx.append(j)
        }
        var maps = data.map { Array(0..<$0) }
        maps[axis] = idx
        return TableKernel(inShape: data, maps: maps, shape: Array(data[..<axis]) + shape + Array(data[(axis + 1)...]))
    }
}
