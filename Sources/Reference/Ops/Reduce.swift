import Foundation
import ONNX

/// The Reduce family over `axes` (attribute, or a constant input for ReduceSum from opset 13
/// and the others from 18; none = all axes unless `noop_with_empty_axes`), `keepdims`
/// default 1, the result typed as the input. Each input element is mapped to its output
/// slot by an offset table. Over the K elements xᵢ of one slot:
///
/// | op | y | ∂y/∂xᵢ |
/// |---|---|---|
/// | ReduceSum | Σxᵢ | 1 |
/// | ReduceMean | Σxᵢ/K | 1/K |
/// | ReduceMax / ReduceMin | max / min | 1 at the first extreme element, else 0 |
/// | ReduceProd | Πxᵢ | Π_{j≠i} xⱼ (computed without dividing, zeros allowed) |
/// | ReduceL1 | Σ\|xᵢ\| | sign(xᵢ) |
/// | ReduceL2 | √Σxᵢ² | xᵢ/y (0 when y = 0) |
/// | ReduceSumSquare | Σxᵢ² | 2xᵢ |
/// | ReduceLogSum | ln Σxᵢ | 1/Σx = e^(−y) |
/// | ReduceLogSumExp | m + ln Σe^(xᵢ−m), m = max (no overflow) | e^(xᵢ−y) |
struct Reduce: Kernel {
    enum Kind { case sum, mean, max, min, prod, l1, l2, sumSquare, logSum, logSumExp }
    let kind: Kind
    let shape: [Int]
    let table: [Int32]
    let outCount: Int
    let k: Int

    static func makeSum(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .sum, inputAxesFrom: 13) }
    static func makeMean(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .mean) }
    static func makeMax(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .max) }
    static func makeMin(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .min) }
    static func makeProd(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .prod) }
    static func makeL1(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .l1) }
    static func makeL2(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .l2) }
    static func makeSumSquare(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .sumSquare) }
    static func makeLogSum(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .logSum) }
    static func makeLogSumExp(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, .logSumExp) }

    static func build(_ c: KernelContext, _ kind: Kind, inputAxesFrom: Int = 18) throws(ReferenceError) -> any Kernel {
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
        let start: Float
        switch kind {
        case .max, .logSumExp: start = -.infinity
        case .min: start = .infinity
        case .prod: start = 1
        default: start = 0
        }
        var y = [Float](repeating: start, count: outCount)
        for i in table.indices {
            let o = Int(table[i]), v = x.data[i]
            switch kind {
            case .max, .logSumExp: y[o] = Swift.max(y[o], v)
            case .min: y[o] = Swift.min(y[o], v)
            case .prod: y[o] *= v
            case .l1: y[o] += abs(v)
            case .l2, .sumSquare: y[o] += v * v
            case .sum, .mean, .logSum: y[o] += v
            }
        }
        switch kind {
        case .mean: let s = 1 / Float(Swift.max(k, 1)); for o in y.indices { y[o] *= s }
        case .l2: for o in y.indices { y[o] = y[o].squareRoot() }
        case .logSum: for o in y.indices { y[o] = logf(y[o]) }
        case .logSumExp:
            let m = y
            var s = [Float](repeating: 0, count: outCount)
            for i in table.indices { let o = Int(table[i]); s[o] += expf(x.data[i] - (m[o].isFinite ? m[o] : 0)) }
            for o in y.indices { y[o] = (m[o].isFinite ? m[o] : 0) + logf(s[o]) }
        default: break
        }
        return [Value(shape: shape, data: y, dtype: x.dtype)]
    }

    /// ∂y_slot/∂xᵢ for every input element (shared by all cotangent rows).
    func partials(_ x: [Float], _ y: [Float]) -> [Float] {
        let n = table.count
        var d = [Float](repeating: 0, count: n)
        switch kind {
        case .sum: for i in 0..<n { d[i] = 1 }
        case .mean: let s = 1 / Float(Swift.max(k, 1)); for i in 0..<n { d[i] = s }
        case .max, .min:
            var taken = [Bool](repeating: false, count: outCount)
            for i in 0..<n {
                let o = Int(table[i])
                if !taken[o] && x[i] == y[o] { taken[o] = true; d[i] = 1 }
            }
        case .prod:
            // Product of the others: nonzero product / xᵢ, or the nonzero product at the one zero.
            var nonzero = [Float](repeating: 1, count: outCount), zeros = [Int](repeating: 0, count: outCount)
            for i in 0..<n {
                let o = Int(table[i])
                if x[i] == 0 { zeros[o] += 1 } else { nonzero[o] *= x[i] }
            }
            for i in 0..<n {
                let o = Int(table[i])
                if zeros[o] == 0 { d[i] = nonzero[o] / x[i] } else if zeros[o] == 1 && x[i] == 0 { d[i] = nonzero[o] }
            }
        case .l1: for i in 0..<n { d[i] = x[i] > 0 ? 1 : (x[i] < 0 ? -1 : 0) }
        case .l2: for i in 0..<n { let yo = y[Int(table[i])]; d[i] = yo > 0 ? x[i] / yo : 0 }
        case .sumSquare: for i in 0..<n { d[i] = 2 * x[i] }
        case .logSum: for i in 0..<n { d[i] = expf(-y[Int(table[i])]) }
        case .logSumExp: for i in 0..<n { d[i] = expf(x[i] - y[Int(table[i])]) }
        }
        return d
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let x = a.inputs[0] else { return [nil] }
        let n = table.count
        let d = partials(x.data, a.outputs[0].data)
        var g = [Float](repeating: 0, count: a.rows * n)
        for r in 0..<a.rows {
            for i in 0..<n where d[i] != 0 { g[r * n + i] = d[i] * a.grad[r * outCount + Int(table[i])] }
        }
        return [g] + Array(repeating: nil, count: Swift.max(0, a.inputs.count - 1))
    }
}
