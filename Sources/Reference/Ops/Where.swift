import ONNX

/// Where(condition, X, Y): z = condition ? x : y, the three broadcast together (numpy
/// rules); the condition is read at run time (it may be computed from the perturbed tensor,
/// e.g. `x > 0`). The result has X's type. VJP: dX = g where the condition holds, dY = g
/// where it does not, each summed over its broadcast axes; the condition has no gradient.
struct Where: Kernel {
    let shape: [Int]
    /// Per operand: its offset table (nil when it already has the output's shape), its count.
    let tables: [[Int32]?]
    let counts: [Int]

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let shapes = [try c.shape(0), try c.shape(1), try c.shape(2)]
        guard let ab = Shapes.broadcast(shapes[0], shapes[1]), let out = Shapes.broadcast(ab, shapes[2]) else {
            throw c.fail("shapes \(shapes[0]), \(shapes[1]) and \(shapes[2]) do not broadcast")
        }
        return Where(shape: out, tables: shapes.map { $0 == out ? nil : IndexTable.broadcast($0, to: out) },
                     counts: shapes.map { $0.reduce(1, *) })
    }

    @inline(__always)
    func at(_ k: Int, _ i: Int) -> Int { tables[k].map { Int($0[i]) } ?? i }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let c = inputs[0], let x = inputs[1], let y = inputs[2] else { return [] }
        let n = shape.reduce(1, *)
        var z = [Float](repeating: 0, count: n)
        for i in 0..<n { z[i] = c.data[at(0, i)] != 0 ? x.data[at(1, i)] : y.data[at(2, i)] }
        return [Value(shape: shape, data: z, dtype: x.dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let c = a.inputs[0] else { return [nil, nil, nil] }
        let n = shape.reduce(1, *)
        var take = [Bool](repeating: false, count: n)
        for i in 0..<n { take[i] = c.data[at(0, i)] != 0 }
        var result: [[Float]?] = [nil]
        for k in 1...2 {
            guard a.wants[k] else { result.append(nil); continue }
            var g = a.grad
            for r in 0..<a.rows {
                for i in 0..<n where take[i] != (k == 1) { g[r * n + i] = 0 }
            }
            result.append(tables[k].map { IndexTable.scatter(g, $0, inCount: counts[k], rows: a.rows) } ?? g)
        }
        return result
    }
}
