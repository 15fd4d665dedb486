import Foundation
import ONNX
import Sensitivity
@testable import Reference

/// Sampling and checking for the interval evaluator's soundness tests.
enum IntervalCheck {
    /// The outcome of checking sampled values against bounds.
    struct Report: CustomStringConvertible {
        var points = 0
        var checked = 0
        var violations: [String] = []
        var description: String { "\(points) points, \(checked) values, \(violations.count) violations: \(violations.prefix(5))" }
    }

    /// A box around seeded centres in [−c, c] with half-widths cycling through `widths`.
    static func box(_ shape: [Int], seed: UInt64, centre: Double = 2, widths: [Double] = [0, 0.02, 0.4, 1.5],
                    lo: Double = -.infinity, hi: Double = .infinity) -> TensorBounds {
        var r = TestRandom(seed: seed)
        let n = shape.reduce(1, *)
        var l = [Float](repeating: 0, count: n), h = l
        for i in 0..<n {
            let c = r.uniform(-centre, centre), w = widths[(i + Int(seed)) % widths.count] * r.uniform(0.5, 1)
            // Shifted (not clipped) into [lo, hi].
            var a = c - w, b = c + w
            if a < lo { b += lo - a; a = lo }
            if b > hi { a -= b - hi; b = hi }
            l[i] = Float(a); h[i] = Float(b)
            if l[i] > h[i] { (l[i], h[i]) = (h[i], l[i]) }
        }
        return TensorBounds(shape: shape, lo: l, hi: h)
    }

    /// `count` seeded points uniformly in the box (float32, clamped into it), after all the
    /// box's corners when it has at most 10 elements in total.
    static func samples(_ domain: [String: TensorBounds], count: Int = 200, seed: UInt64 = 11) -> [[String: [Float]]] {
        let names = domain.keys.sorted()
        let total = names.reduce(0) { $0 + (domain[$1]?.count ?? 0) }
        var out: [[String: [Float]]] = []
        if total <= 10 {
            for mask in 0..<(1 << total) {
                var bit = 0, point: [String: [Float]] = [:]
                for name in names {
                    guard let b = domain[name] else { continue }
                    var v = [Float](repeating: 0, count: b.count)
                    for i in 0..<b.count {
                        v[i] = (mask >> bit) & 1 == 1 ? b.hi[i] : b.lo[i]
                        bit += 1
                    }
                    point[name] = v
                }
                out.append(point)
            }
        }
        var r = TestRandom(seed: seed)
        for _ in 0..<count {
            var point: [String: [Float]] = [:]
            for name in names {
                guard let b = domain[name] else { continue }
                point[name] = (0..<b.count).map { i in
                    min(max(Float(Double(b.lo[i]) + (Double(b.hi[i]) - Double(b.lo[i])) * r.uniform(0, 1)), b.lo[i]), b.hi[i])
                }
            }
            out.append(point)
        }
        return out
    }

    /// Checks that every value the float64 reference computes at the sampled points lies in
    /// the bounds. The reference's own rounding is allowed 10⁻¹² of the larger of |v| and the
    /// tensor's largest magnitude at that point; NaN values (the function is undefined there)
    /// are skipped.
    static func float64(_ g: ModelGraph, _ domain: [String: TensorBounds], bounds: [String: TensorBounds],
                        extraFeeds: [[String: [Float]]] = [[:]], count: Int = 200) throws -> Report {
        var report = Report()
        let model = Float64Model(g: g)
        for point in samples(domain, count: count) {
            for extra in extraFeeds {
                var feeds: [String: Float64Model.T] = [:]
                for (k, v) in point.merging(extra, uniquingKeysWith: { a, _ in a }) {
                    feeds[k] = Float64Model.T(v: v.map(Double.init), s: domain[k]?.shape ?? g.shapes[k] ?? [v.count])
                }
                let values = try model.run(feeds)
                report.points += 1
                for (name, b) in bounds {
                    guard let t = values[name], t.v.count == b.count else { continue }
                    let scale = t.v.reduce(0) { max($0, $1.isFinite ? abs($1) : 0) }
                    for i in t.v.indices where !t.v[i].isNaN {
                        report.checked += 1
                        let slack = 1e-12 * max(abs(t.v[i]).isFinite ? abs(t.v[i]) : 0, scale)
                        if !(t.v[i] >= Double(b.lo[i]) - slack && t.v[i] <= Double(b.hi[i]) + slack), report.violations.count < 20 {
                            report.violations.append("\(name)[\(i)] = \(t.v[i]) ∉ [\(b.lo[i]), \(b.hi[i])]")
                        }
                    }
                }
            }
        }
        return report
    }

    /// Checks the float32 engine's values at the sampled points against the bounds, for ops the
    /// engine computes exactly (data movement, max pooling: no slack) or with a slack per value
    /// that bounds the engine's own rounding (`slack(name, index, trace)`).
    static func engine(_ g: ModelGraph, _ domain: [String: TensorBounds], bounds: [String: TensorBounds], output: String,
                       input: String, slack: (String, Int, Engine.Trace) -> Double = { _, _, _ in 0 }) throws -> Report {
        var report = Report()
        let engine = try Engine(graph: g, output: output, input: input)
        for point in samples(domain) {
            var feeds: [String: Value] = [:]
            for (k, v) in point { feeds[k] = Value(shape: domain[k]?.shape ?? [v.count], data: v) }
            let trace = try engine.forward(feeds)
            report.points += 1
            for (name, b) in bounds {
                guard let t = trace.values[name], t.data.count == b.count else { continue }
                for i in t.data.indices where !t.data[i].isNaN {
                    report.checked += 1
                    let s = slack(name, i, trace)
                    if !(Double(t.data[i]) >= Double(b.lo[i]) - s && Double(t.data[i]) <= Double(b.hi[i]) + s), report.violations.count < 20 {
                        report.violations.append("\(name)[\(i)] = \(t.data[i]) ∉ [\(b.lo[i]), \(b.hi[i])]")
                    }
                }
            }
        }
        return report
    }
}
