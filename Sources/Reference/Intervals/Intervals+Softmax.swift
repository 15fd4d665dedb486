import Foundation
import ONNX
import Sensitivity

/// Softmax and LogSoftmax along an axis (opset < 13: over the flattened trailing axes).
///
/// p_i = 1/(1 + Σ_{j≠i} e^{x_j − x_i}) is decreasing in every x_j (j ≠ i) and increasing in x_i,
/// so over the box p_i ∈ [1/(1 + S_i), 1/(1 + S′_i)] with S_i = Σ_{j≠i} e^{h_j − l_i} and
/// S′_i = Σ_{j≠i} e^{l_j − h_i}. In the log domain, log p_i = −softplus(log S_i), computed
/// without overflow: with m = max_j h_j, t_j = e^{h_j − m} and T = Σ t_j, log S_i =
/// log(T − t_i) + m − l_i, where T − t_i is summed directly for the i that attains m (no
/// cancellation) and is T − t_i otherwise (relative loss ≤ K·2⁻⁵³, since t_{argmax} = 1 ≤ T − t_i);
/// S′ likewise with the lower bounds. Every step rounds outward (upper bounds of S, lower bounds
/// of S′); p is clamped to [0, 1] and log p to ≤ 0.
enum SoftmaxRules {
    static let rules: [String: IntervalRule] = [
        "Softmax": { c throws(ReferenceError) in try softmax(c, log: false) },
        "LogSoftmax": { c throws(ReferenceError) in try softmax(c, log: true) },
    ]

    static func softmax(_ c: IntervalNode, log: Bool) throws(ReferenceError) -> [TensorBounds?] {
        guard let x = c.bounds(0) else { return [] }
        let r = x.shape.count
        let a = c.node.int("axis") ?? (c.opset >= 13 ? -1 : 1)
        guard let axis = Shapes.axis(a, rank: max(r, 1)) else { throw c.fail("axis \(a) is out of range for rank \(r)") }
        let (outer, n, inner) = c.opset >= 13 || r == 0
            ? ReduceRules.lines(x.shape.isEmpty ? [1] : x.shape, axis)
            : (x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *), 1)
        var out = x
        for o in 0..<outer {
            for i in 0..<inner {
                let line = ReduceRules.line(o, i, n: n, inner: inner)
                let lower = logSums(line.map { Double(x.hi[$0]) }, line.map { Double(x.lo[$0]) }, up: true)
                let upper = logSums(line.map { Double(x.lo[$0]) }, line.map { Double(x.hi[$0]) }, up: false)
                for (j, at) in line.enumerated() {
                    // log p ∈ [−softplus(log S), −softplus(log S′)].
                    // A lower bound log S′ = +∞ only comes from x_j = −∞ itself (directed sums of
                    // finite values stay finite): then p_j = 0 exactly.
                    let lp = -Interval.softplus(lower[j]).hi
                    let hp = upper[j] == .infinity ? -Double.infinity : min(0, -Interval.softplus(upper[j]).lo)
                    if log {
                        out.lo[at] = Outward.floatDown(lp)
                        out.hi[at] = Outward.floatUp(hp)
                    } else {
                        out.lo[at] = max(0, Outward.floatDown(Interval(point: lp).exp().lo))
                        out.hi[at] = hp == -.infinity ? 0 : min(1, Outward.floatUp(Interval(point: hp).exp().hi))
                    }
                }
            }
        }
        return [out]
    }

    /// For each i, a bound of log Σ_{j≠i} e^{a_j − b_i}: an upper bound when `up` (a = upper,
    /// b = lower bounds of x), else a lower bound (a = lower, b = upper bounds).
    static func logSums(_ a: [Double], _ b: [Double], up: Bool) -> [Double] {
        let n = a.count
        guard let m = a.max(), let top = a.firstIndex(of: m) else { return [] }
        // No finite shift: an infinite a_j (or all −∞) leaves only the trivial bounds.
        guard m.isFinite else { return [Double](repeating: up ? .infinity : -.infinity, count: n) }
        func term(_ v: Double, _ upward: Bool) -> Double {
            upward ? Interval(point: Outward.addUp(v, -m)).exp().hi : Interval(point: Outward.addDown(v, -m)).exp().lo
        }
        func add(_ x: Double, _ y: Double) -> Double { up ? Outward.addUp(x, y) : Outward.addDown(x, y) }
        var total = 0.0, rest = 0.0
        for j in 0..<n {
            let t = term(a[j], up)
            total = add(total, t)
            if j != top { rest = add(rest, t) }
        }
        return (0..<n).map { i in
            let others = i == top ? rest : max(0, add(total, -term(a[i], !up)))
            let shift = add(m, -b[i])
            let l = Foundation.log(others)
            return add(up ? Outward.libmUp(l) : Outward.libmDown(l), shift)
        }
    }
}
