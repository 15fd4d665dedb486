import ONNX

/// A binary elementwise function and its partial derivatives (given a, b and y = f(a, b)).
protocol BinaryFunction: Sendable {
    static func value(_ a: Float, _ b: Float) -> Float
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float
}

/// y = f(a, b) with numpy broadcasting. Each operand is read through an offset table
/// (nil when it already has the output's shape); the VJP multiplies the cotangent by the
/// partial derivative and scatter-adds it back, which sums over broadcast axes.
struct BinaryOp<F: BinaryFunction>: Kernel {
    let shape: [Int]
    let tableA: [Int32]?
    let tableB: [Int32]?
    let countA: Int
    let countB: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let a = try c.shape(0), b = try c.shape(1)
        guard let out = Shapes.broadcast(a, b) else { throw c.fail("shapes \(a) and \(b) do not broadcast") }
        return BinaryOp(shape: out,
                        tableA: a == out ? nil : IndexTable.broadcast(a, to: out),
                        tableB: b == out ? nil : IndexTable.broadcast(b, to: out),
                        countA: a.reduce(1, *), countB: b.reduce(1, *))
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let a = inputs[0], let b = inputs[1] else { return [] }
        let n = shape.reduce(1, *)
        var y = [Float](repeating: 0, count: n)
        switch (tableA, tableB) {
        case (nil, nil): for i in 0..<n { y[i] = F.value(a.data[i], b.data[i]) }
        case let (nil, tb?): for i in 0..<n { y[i] = F.value(a.data[i], b.data[Int(tb[i])]) }
        case let (ta?, nil): for i in 0..<n { y[i] = F.value(a.data[Int(ta[i])], b.data[i]) }
        case let (ta?, tb?): for i in 0..<n { y[i] = F.value(a.data[Int(ta[i])], b.data[Int(tb[i])]) }
        }
        return [Value(shape: shape, data: y)]
    }

    func backward(_ args: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let a = args.inputs[0], let b = args.inputs[1] else { return [nil, nil] }
        let y = args.outputs[0].data
        let n = y.count
        // Partial derivatives at the forward point, shared by all rows.
        var pa = [Float](repeating: 0, count: args.wants[0] ? n : 0)
        var pb = [Float](repeating: 0, count: args.wants[1] ? n : 0)
        for i in 0..<n {
            let av = a.data[tableA.map { Int($0[i]) } ?? i]
            let bv = b.data[tableB.map { Int($0[i]) } ?? i]
            if args.wants[0] { pa[i] = F.da(av, bv, y[i]) }
            if args.wants[1] { pb[i] = F.db(av, bv, y[i]) }
        }
        func reduce(_ p: [Float], _ table: [Int32]?, _ count: Int) -> [Float] {
            var g = args.grad
            for r in 0..<args.rows {
                let o = r * n
                for i in 0..<n { g[o + i] *= p[i] }
            }
            guard let table else { return g }
            return IndexTable.scatter(g, table, inCount: count, rows: args.rows)
        }
        return [args.wants[0] ? reduce(pa, tableA, countA) : nil,
                args.wants[1] ? reduce(pb, tableB, countB) : nil]
    }
}
