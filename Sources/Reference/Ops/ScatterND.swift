import ONNX

/// ScatterND(data, indices, updates, reduction = none): indices (…, k) hold tuples into
/// data's first k axes; updates have shape indices.shape[..<q−1] + data.shape[k...], each
/// tuple's slice written at its place in a copy of data (see ``ScatterKernel`` for the
/// reductions and the VJP). Indices (negative ones count from the end) are read at run time.
struct ScatterND: ScatterKernel {
    let node: String
    let reduction: String
    let data: [Int]

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0), ind = try c.shape(1), up = try c.shape(2)
        guard let k = ind.last, k >= 1, k <= x.count, up == Array(ind.dropLast()) + Array(x[k...]) else {
            throw c.fail("indices \(ind) and updates \(up) do not fit data \(x)")
        }
        return ScatterND(node: c.name, reduction: try c.scatterReduction(), data: x)
    }

    func targets(_ inputs: [Value?]) throws(ReferenceError) -> [Int] {
        guard let ind = inputs[1], let k = ind.shape.last, k >= 1 else { throw .badNode(node: node, op: "ScatterND", reason: "missing indices") }
        let strides = Shapes.strides(data)
        let slice = data[k...].reduce(1, *)
        var out: [Int] = []
        out.reserveCapacity(ind.count / k * slice)
        for t in 0..<(ind.count / k) {
            var off = 0
            for j in 0..<k {
                guard let i = wrapIndex(ind.data[t * k + j], data[j]) else {
                    throw .badNode(node: node, op: "ScatterND", reason: "index \(ind.data[t * k + j]) is out of range for extent \(data[j])")
                }
                off += i * strides[j]
            }
            for s in 0..<slice { out.append(off + s) }
        }
        return out
    }
}
