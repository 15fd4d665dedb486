import ONNX

/// ReduceSum, ReduceMean, ReduceMax over `axes` (attribute, or a constant input for
/// ReduceSum from opset 13 and the others from 18; none = all axes unless
/// `noop_with_empty_axes`), `keepdims` default 1. Each input element is mapped to its
/// output slot by an offset table. VJP: Sum broadcasts g, Mean broadcasts g/K, Max sends g
/// to the first maximal element.
struct Reduce: Kernel {
    enum Kind { case sum, mean, max }
    let kind: Kind
    let shape: [Int]
    let table: [Int32]
    let outCount: Int
    let k: Int

    static func makeSum(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .sum, inputAxesFrom: 13) }
    static func makeMean(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .mean, inputAxesFrom: 18) }
    static func makeMax(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .max, inputAxesFrom: 18) }

    static func build(_ c: KernelContext, _ kind: Kind, inputAxesFrom: Int) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let given = c.opset >= inputAxesFrom ? try c.constantInts(1) : c.node.ints("axes")
        var axes = Set<Int>()
        if let given, !given.isEmpty {
            for a in given { axes.insert(try c.axis(a, rank: x.count)) }
        } else if c.node.int("noop_with_empty_axes") == 1 {
            return ReshapeKernel(shape: x)
        } else {
            axes = Set(x.indices)
        }
        let keep = x.indices.map { axes.contains($0) ? 1 : x[$0] }
        let keepDims = (c.node.int("keepdims") ?? 1) != 0
        let outStrides = Shapes.strides(keep)
        let table = IndexTable.build(x.indices.map { a in (0..<x[a]).map { axes.contains(a) ? 0 : $0 * outStrides[a] } })
        return Reduce(kind: kind, shape: keepDims ? keep : x.indices.filter { !axes.contains($0) }.map { x[$0] },
                      table: table, outCount: keep.reduce(1, *), k: axes.reduce(1) { $0 * x[$1] })
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        var y = [Float](repeating: kind == .max ? -.infinity : 0, count: outCount)
        for i in table.indices {
            let o = Int(table[i])
            if kind == .max { y[o] = max(y[o], x.data[i]) } else { y[o] += x.data[i] }
        }
        if kind == .mean { let s = 1 / Float(max(k, 1)); for o in y.indices { y[o] *= s } }
        return [Value(shape: shape, data: y)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let x = a.inputs[0] else { return [nil] }
        let n = table.count
        var g = [Float](repeating: 0, count: a.rows * n)
        switch kind {
        case .sum, .mean:
            let s: Float = kind == .mean ? 1 / Float(max(k, 1)) : 1
            for r in 0..<a.rows { for i in 0..<n { g[r * n + i] = s * a.grad[r * outCount + Int(table[i])] } }
        case .max:
            let y = a.outputs[0].data
            var taken = [Bool](repeating: false, count: outCount)
            var winner = [Int](repeating: -1, count: outCount)
            for i in 0..<n {
                let o = Int(table[i])
                if !taken[o] && x.data[i] == y[o] { taken[o] = true; winner[o] = i }
            }
            for r in 0..<a.rows {
                for o in 0..<outCount where winner[o] >= 0 { g[r * n + winner[o]] = a.grad[r * outCount + o] }
            }
        }
        return [g] + Array(repeating: nil, count: max(0, a.inputs.count - 1))
    }
}
