import ONNX

/// GatherND(data, indices, batch_dims = b): the last axis of `indices` (length k ≤ r − b)
/// holds index tuples into data's axes b…b+k−1; the first b axes of both are batch axes
/// taken in step. Output shape = indices.shape[..<q−1] + data.shape[b+k...]; each tuple
/// selects a slice of data. Indices (negative ones count from the end) are read at run
/// time. A gather; the VJP scatter-adds.
struct GatherND: RuntimeGather {
    let node: String
    let data: [Int]
    let batchDims: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0), ind = try c.shape(1)
        let b = c.node.int("batch_dims") ?? 0
        guard b >= 0, b < min(x.count, ind.count), let k = ind.last, k >= 1, b + k <= x.count,
              Array(ind[..<b]) == Array(x[..<b]) else {
            throw c.fail("indices \(ind) do not fit data \(x) with batch_dims \(b)")
        }
        return GatherND(node: c.name, data: x, batchDims: b)
    }

    func table(_ inputs: [Value?]) throws(ReferenceError) -> TableKernel {
        guard let ind = inputs[1], let k = ind.shape.last else { throw .badNode(node: node, op: "GatherND", reason: "missing indices") }
        let b = batchDims
        let strides = Shapes.strides(data)
        let batches = data[..<b].reduce(1, *)
        let batchStride = data[b...].reduce(1, *)
        let tuples = ind.count / max(k, 1)
        let perBatch = tuples / max(batches, 1)
        let slice = data[(b + k)...].reduce(1, *)
        var table: [Int32] = []
        table.reserveCapacity(tuples * slice)
        for t in 0..<tuples {
            var off = (t / max(perBatch, 1)) * batchStride
            for j in 0..<k {
                guard let i = wrapIndex(ind.data[t * k + j], data[b + j]) else {
                    throw .badNode(node: node, op: "GatherND", reason: "index \(ind.data[t * k + j]) is out of range for extent \(data[b + j])")
                }
                off += i * strides[b + j]
            }
            for s in 0..<slice { table.append(Int32(off + s)) }
        }
        let shape = Array(ind.shape.dropLast()) + Array(data[(b + k)...])
        return TableKernel(shape: shape, table: table, inCount: data.reduce(1, *))
    }
}
