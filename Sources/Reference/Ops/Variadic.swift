import ONNX

/// Min, Max and Mean: variadic elementwise ops over inputs broadcast together (numpy
/// rules), the result typed as the first input. Each input is read through an offset
/// table (nil when it already has the output's shape).
/// VJP: Mean gives every input g/n, summed over its broadcast axes; Min and Max give g to
/// the first input that attains the extreme at that element (ties: the lowest input index,
/// a subgradient), zero to the others.
struct Variadic: Kernel {
    enum Kind { case min, max, mean }
    let kind: Kind
    let shape: [Int]
    let tables: [[Int32]?]
    let counts: [Int]

    static func make(_ c: KernelContext, _ kind: Kind) throws(ReferenceError) -> any Kernel {
        guard !c.shapes.isEmpty else { throw c.fail("needs at least one input") }
        var out: [Int] = []
        var shapes: [[Int]] = []
        for i in c.shapes.indices {
            let s = try c.shape(i)
            shapes.append(s)
            guard let o = Shapes.broadcast(out, s) else { throw c.fail("shapes \(out) and \(s) do not broadcast") }
            out = o
        }
        return Variadic(kind: kind, shape: out, tables: shapes.map { $0 == out ? nil : IndexTable.broadcast($0, to: out) },
                        counts: shapes.map { $0.reduce(1, *) })
    }

    @inline(__always)
    func at(_ k: Int, _ i: Int) -> Int { tables[k].map { Int($0[i]) } ?? i }

    /// For each output element, the input that supplies it (Min/Max).
    func winners(_ inputs: [Value?]) -> [Int] {
        let n = shape.reduce(1, *)
        var win = [Int](repeating: 0, count: n)
        guard let first = inputs[0] else { return win }
        for i in 0..<n {
            var best = first.data[at(0, i)]
            for k in 1..<inputs.count {
                guard let v = inputs[k]?.data[at(k, i)] else { continue }
                if kind == .max ? v > best : v < best { best = v; win[i] = k }
            }
        }
        return win
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        let n = shape.reduce(1, *)
        var y = [Float](repeating: 0, count: n)
        if kind == .mean {
            for (k, x) in inputs.enumerated() {
                guard let x else { continue }
                for i in 0..<n { y[i] += x.data[at(k, i)] }
            }
            let s = 1 / Float(inputs.count)
            for i in 0..<n { y[i] *= s }
        } else {
            let win = winners(inputs)
            for i in 0..<n { y[i] = inputs[win[i]]?.data[at(win[i], i)] ?? 0 }
        }
        return [Value(shape: shape, data: y, dtype: inputs.first??.dtype ?? .float)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let n = shape.reduce(1, *)
        let win = kind == .mean ? [] : winners(a.inputs)
        let scale = 1 / Float(a.inputs.count)
        return tables.indices.map { k in
            guard a.wants[k] else { return nil }
            var g = a.grad
            for r in 0..<a.rows {
                for i in 0..<n {
                    if kind == .mean { g[r * n + i] *= scale } else if win[i] != k { g[r * n + i] = 0 }
                }
            }
            return tables[k].map { IndexTable.scatter(g, $0, inCount: counts[k], rows: a.rows) } ?? g
        }
    }
}
