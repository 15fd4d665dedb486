import ONNX

/// A binary elementwise function and its partial derivatives (given a, b and y = f(a, b)).
protocol BinaryFunction: Sendable {
    static func value(_ a: Float, _ b: Float) -> Float
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float
    /// The result's element type for operands of types `a` and `b` (default: `a`'s —
    /// arithmetic keeps its operands' type; comparisons give BOOL).
    static func resultType(_ a: DataType, _ b: DataType) -> DataType
    /// The value on integer (or bool) operands held as floats (default: `value`, exact
    /// below 2²⁴ for +, −, ×; integer Div truncates, Mod follows the divisor's sign).
    static func integer(_ a: Float, _ b: Float) -> Float
}

extension BinaryFunction {
    static func resultType(_ a: DataType, _ b: DataType) -> DataType { a }
    static func integer(_ a: Float, _ b: Float) -> Float { value(a, b) }
}

/// y = f(a, b) with numpy broadcasting. Each operand is read through an offset table
/// (nil when it already has the output's shape); the VJP multiplies the cotangent by the
/// partial derivative and scatter-adds it back, which sums over broadcast axes.
/// Integer operands (the first operand's type decides) use `F.integer`; the output type
/// is `F.resultType`.
struct BinaryOp<F: BinaryFunction>: Kernel {
    let shape: [Int]
    var dtype: DataType = .float
    var integerOperands = false
    let tableA: [Int32]?
    let tableB: [Int32]?
    let countA: Int
    let countB: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let a = try c.shape(0), b = try c.shape(1)
        guard let out = Shapes.broadcast(a, b) else { throw c.fail("shapes \(a) and \(b) do not broadcast") }
        return BinaryOp(shape: out, dtype: F.resultType(c.dtype(0), c.dtype(1)),
                        integerOperands: !c.dtype(0).isFloatingPoint,
                        tableA: a == out ? nil : IndexTable.broadcast(a, to: out),
                        tableB: b == out ? nil : IndexTable.broadcast(b, to: out),
                        countA: a.reduce(1, *), countB: b.reduce(1, *))
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let a = inputs[0], let b = inputs[1] else { return [] }
        let n = shape.reduce(1, *)
        var y = [Float](repeating: 0, count: n)
        let f: (Float, Float) -> Float = integerOperands ? { F.integer($0, $1) } : { F.value($0, $1) }
        switch (tableA, tableB) {
        case (nil, nil): for i in 0..<n { y[i] = f(a.data[i], b.data[i]) }
        case let (nil, tb?): for i in 0..<n { y[i] = f(a.data[i], b.data[Int(tb[i])]) }
        case let (ta?, nil): for i in 0..<n { y[i] = f(a.data[Int(ta[i])], b.data[i]) }
        case let (ta?, tb?): for i in 0..<n { y[i] = f(a.data[Int(ta[i])], b.data[Int(tb[i])]) }
        }
        return [Value(shape: shape, data: y, dtype: dtype)]
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
