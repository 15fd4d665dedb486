import ONNX

/// Sum (variadic Add with broadcasting): y = Σ xᵢ; each input's VJP is the cotangent
/// reduced over its broadcast axes.
struct Sum: Kernel {
    let shape: [Int]
    let tables: [[Int32]?]
    let counts: [Int]

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        var out: [Int] = []
        var shapes: [[Int]] = []
        for i in c.shapes.indices {
            let s = try c.shape(i)
            shapes.append(s)
            guard let o = Shapes.broadcast(out, s) else { throw c.fail("shapes \(out) and \(s) do not broadcast") }
            out = o
        }
        return Sum(shape: out, tables: shapes.map { $0 == out ? nil : IndexTable.broadcast($0, to: out) },
                   counts: shapes.map { $0.reduce(1, *) })
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        var y = [Float](repeating: 0, count: shape.reduce(1, *))
        for (x, t) in zip(inputs, tables) {
            guard let x else { continue }
            if let t { for i in y.indices { y[i] += x.data[Int(t[i])] } } else { for i in y.indices { y[i] += x.data[i] } }
        }
        return [Value(shape: shape, data: y, dtype: inputs.first??.dtype ?? .float)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        tables.indices.map { i in
            guard a.wants[i] else { return nil }
            guard let t = tables[i] else { return a.grad }
            return IndexTable.scatter(a.grad, t, inCount: counts[i], rows: a.rows)
        }
    }
}
