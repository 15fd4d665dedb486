import Foundation
import ONNX
import Sensitivity

/// ArgMax/ArgMin, TopK and Hardmax (see ``ReduceRules``).
extension ReduceRules {
    /// The elements of one line that can be the maximum (minimum): those whose upper (lower)
    /// bound reaches the largest lower (smallest upper) bound.
    static func candidates(_ x: TensorBounds, _ line: [Int], max: Bool) -> [Int] {
        if max {
            let best = line.map { x.lo[$0] }.max() ?? -.infinity
            return line.indices.filter { x.hi[line[$0]] >= best }
        }
        let best = line.map { x.hi[$0] }.min() ?? .infinity
        return line.indices.filter { x.lo[line[$0]] <= best }
    }

    /// The flat offsets of the line along `axis` through (o, i).
    static func line(_ o: Int, _ i: Int, n: Int, inner: Int) -> [Int] { (0..<n).map { (o * n + $0) * inner + i } }

    static func argBest(max: Bool) -> IntervalRule {
        { c throws(ReferenceError) in
            guard let x = c.bounds(0) else { return [] }
            let a = c.node.int("axis") ?? 0
            guard let axis = Shapes.axis(a, rank: x.shape.count) else { throw c.fail("axis \(a) is out of range") }
            let (outer, n, inner) = lines(x.shape, axis)
            var shape = x.shape
            if (c.node.int("keepdims") ?? 1) != 0 { shape[axis] = 1 } else { shape.remove(at: axis) }
            var lo = [Float](repeating: 0, count: outer * inner), hi = lo
            for o in 0..<outer {
                for i in 0..<inner {
                    let cand = candidates(x, line(o, i, n: n, inner: inner), max: max)
                    lo[o * inner + i] = Float(cand.first ?? 0)
                    hi[o * inner + i] = Float(cand.last ?? Swift.max(n - 1, 0))
                }
            }
            return [TensorBounds(shape: shape, lo: lo, hi: hi)]
        }
    }

    static let topK: IntervalRule = { c throws(ReferenceError) in
        guard let x = c.bounds(0), let k = c.pointInts(1)?.first else { return [] }
        let a = c.node.int("axis") ?? -1
        guard let axis = Shapes.axis(a, rank: x.shape.count) else { throw c.fail("axis \(a) is out of range") }
        let (outer, n, inner) = lines(x.shape, axis)
        guard k >= 0, k <= n else { throw c.fail("k = \(k) for an axis of \(n)") }
        let largest = (c.node.int("largest") ?? 1) != 0, sorted = (c.node.int("sorted") ?? 1) != 0
        var shape = x.shape
        shape[axis] = k
        var lo = [Float](repeating: 0, count: outer * k * inner), hi = lo
        for o in 0..<outer {
            for i in 0..<inner {
                let l = line(o, i, n: n, inner: inner)
                var ls = l.map { x.lo[$0] }, hs = l.map { x.hi[$0] }
                ls.sort(by: largest ? { $0 > $1 } : { $0 < $1 })
                hs.sort(by: largest ? { $0 > $1 } : { $0 < $1 })
                for j in 0..<k {
                    let at = (o * k + j) * inner + i
                    // The j-th order statistic lies between those of the bounds.
                    // Unsorted: any of the k, between the weakest lower and the strongest upper bound.
                    let (jl, jh) = sorted ? (j, j) : (largest ? (k - 1, 0) : (0, k - 1))
                    lo[at] = ls[jl]
                    hi[at] = hs[jh]
                }
            }
        }
        let indices = TensorBounds(shape: shape, lo: 0, hi: Float(max(n - 1, 0)))
        return [TensorBounds(shape: shape, lo: lo, hi: hi), indices]
    }

    static let hardmax: IntervalRule = { c throws(ReferenceError) in
        guard let x = c.bounds(0) else { return [] }
        let a = c.node.int("axis") ?? -1
        guard let axis = Shapes.axis(a, rank: x.shape.count) else { throw c.fail("axis \(a) is out of range") }
        var (outer, n, inner) = lines(x.shape, axis)
        if c.opset < 13 { (outer, n, inner) = (x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *), 1) }
        var out = TensorBounds(shape: x.shape, lo: 0, hi: 1)
        for o in 0..<outer {
            for i in 0..<inner {
                let l = line(o, i, n: n, inner: inner)
                let cand = candidates(x, l, max: true)
                guard cand.count == 1, let w = cand.first else { continue }
                for j in l { out.hi[j] = 0 }
                out.lo[l[w]] = 1
                out.hi[l[w]] = 1
            }
        }
        return [out]
    }
}
