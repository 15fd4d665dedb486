import Foundation
import ONNX
import Sensitivity

/// Elementwise activations, exact range on every element's interval, in Double with outward
/// rounding (``Interval``). Three shapes of argument:
/// - **monotone** (either direction) f: range f([a, b]) = hull(f(a), f(b)) — Relu, Sigmoid,
///   HardSigmoid (any α), Tanh, Softplus, Softsign, Elu/Selu/Celu with non-negative
///   parameters, Clip (non-decreasing in x, min and max), …
/// - **piecewise monotone** with known breakpoints p: f is monotone between consecutive
///   breakpoints, so the range is the hull of f(a), f(b) and the values (or one-sided limits)
///   at the breakpoints inside [a, b] — LeakyRelu and PRelu-like kinks at 0 (any slope),
///   Elu/Selu with a negative parameter, ThresholdedRelu and Shrink (jumps: both one-sided
///   values), HardSwish (minimum −3/8 at −3/2, exact).
/// - **unimodal** smooth f with one interior minimum x* known only numerically (GELU, its
///   tanh form, Mish): the breakpoint value is a certified lower bound of the minimum (computed
///   to 40 digits with mpmath and rounded down by 10⁻¹¹), and x* is widened by 10⁻⁶ when
///   deciding whether it lies in [a, b] (including it when it does not only widens).
/// Infinite endpoints use the limits of f (GELU(−∞) = 0, …).
enum Activations {
    struct Breakpoint {
        var at: Double
        var slack: Double = 0
        var value: Interval
    }

    /// f applied to every element of input 0.
    static func map(_ c: IntervalNode, _ f: (Interval) -> Interval) -> [TensorBounds?] {
        guard let x = c.bounds(0) else { return [] }
        return [TensorBounds(shape: x.shape, count: x.count) { f(x.interval($0)) }]
    }

    /// The range of a piecewise monotone f on x, given an enclosure of f at a point.
    static func range(_ x: Interval, _ f: (Double) -> Interval, breaks: [Breakpoint] = []) -> Interval {
        var r = x.isPoint ? f(x.lo) : f(x.lo).hull(f(x.hi))
        for b in breaks where b.at >= x.lo - b.slack && b.at <= x.hi + b.slack { r = r.hull(b.value) }
        return r
    }

    static func piecewise(_ breaks: [Breakpoint], _ f: @escaping @Sendable (Double) -> Interval) -> IntervalRule {
        { c throws(ReferenceError) in map(c) { range($0, f, breaks: breaks) } }
    }

    @inline(__always) static func p(_ x: Double) -> Interval { Interval(point: x) }

    static let zeroKink = [Breakpoint(at: 0, value: Interval(point: 0))]

    static let rules: [String: IntervalRule] = [
        "Relu": piecewise([]) { p(max($0, 0)) },
        "LeakyRelu": { c throws(ReferenceError) in
            let a = Double(c.node.float("alpha") ?? 0.01)
            return map(c) { range($0, { $0 >= 0 ? p($0) : p($0).scaled(a) }, breaks: zeroKink) }
        },
        "Elu": { c throws(ReferenceError) in
            let a = Double(c.node.float("alpha") ?? 1)
            return map(c) { range($0, { $0 > 0 ? p($0) : p($0).expm1().scaled(a) }, breaks: zeroKink) }
        },
        "Selu": { c throws(ReferenceError) in
            let a = Double(c.node.float("alpha") ?? 1.67326319217681884765625)
            let g = Double(c.node.float("gamma") ?? 1.05070102214813232421875)
            return map(c) { range($0, { ($0 > 0 ? p($0) : p($0).expm1().scaled(a)).scaled(g) }, breaks: zeroKink) }
        },
        "Celu": { c throws(ReferenceError) in
            let a = Double(c.node.float("alpha") ?? 1)
            guard a > 0 else { return [] }
            return map(c) { range($0, { $0 > 0 ? p($0) : (p($0) / p(a)).expm1().scaled(a) }, breaks: zeroKink) }
        },
        "ThresholdedRelu": { c throws(ReferenceError) in
            let a = Double(c.node.float("alpha") ?? 1)
            let jump = Breakpoint(at: a, value: p(0).hull(a))
            return map(c) { range($0, { $0 > a ? p($0) : p(0) }, breaks: [jump]) }
        },
        "Shrink": { c throws(ReferenceError) in
            let l = Double(c.node.float("lambd") ?? 0.5), b = Double(c.node.float("bias") ?? 0)
            let f: @Sendable (Double) -> Interval = { x in x < -l ? p(x) + p(b) : (x > l ? p(x) - p(b) : p(0)) }
            let breaks = [Breakpoint(at: -l, value: (p(-l) + p(b)).hull(0)), Breakpoint(at: l, value: (p(l) - p(b)).hull(0))]
            return map(c) { range($0, f, breaks: breaks) }
        },
        "Sigmoid": piecewise([]) { p($0).sigmoid() },
        "HardSigmoid": { c throws(ReferenceError) in
            let a = Double(c.node.float("alpha") ?? 0.2), b = Double(c.node.float("beta") ?? 0.5)
            return map(c) { range($0, { hardSigmoid($0, a, b) }) }
        },
        "HardSwish": piecewise([Breakpoint(at: -1.5, value: p(-0.375))]) { x in
            x <= -3 ? p(0) : (x >= 3 ? p(x) : p(x) * hardSigmoid(x, 1.0 / 6.0, 0.5, exactSixth: true))
        },
        "Tanh": piecewise([]) { p($0).tanh() },
        "Softplus": piecewise([]) { Interval.softplus($0) },
        "Softsign": piecewise([]) { x in
            x.isInfinite ? p(x > 0 ? 1 : -1) : p(x) / (p(1) + p(abs(x)))
        },
        "Clip": clip,
        "Neg": piecewise([]) { p(-$0) },
        "Abs": piecewise(zeroKink) { p(abs($0)) },
        "Sign": piecewise([]) { p($0 > 0 ? 1 : ($0 < 0 ? -1 : 0)) },
        "Floor": piecewise([]) { p($0.rounded(.down)) },
        "Ceil": piecewise([]) { p($0.rounded(.up)) },
        "Round": piecewise([]) { p($0.rounded(.toNearestOrEven)) },
        "IsNaN": { c throws(ReferenceError) in map(c) { _ in .unit } },
        "IsInf": { c throws(ReferenceError) in map(c) { _ in .unit } },
        "Not": piecewise([]) { p(1 - $0) },
    ]

    /// max(0, min(1, αx + β)), monotone in x for either sign of α. `exactSixth`: α is the real
    /// 1/6 (HardSwish), enclosed instead of rounded.
    static func hardSigmoid(_ x: Double, _ a: Double, _ b: Double, exactSixth: Bool = false) -> Interval {
        let t = (exactSixth ? p(x) / p(6) : p(x).scaled(a)) + p(b)
        return Interval(max(0, min(1, t.lo)), max(0, min(1, t.hi)))
    }

    /// Clip(x, min, max) = min(max(x, m), M): non-decreasing in x, m and M, so
    /// [f(a, m_lo, M_lo), f(b, m_hi, M_hi)]. Bounds from inputs (opset ≥ 11, scalars, possibly
    /// intervals) or attributes (opset < 11).
    static let clip: IntervalRule = { c throws(ReferenceError) in
        var m = Interval(point: -.infinity), mm = Interval(point: .infinity)
        if c.opset < 11 {
            m = Interval(point: Double(c.node.float("min") ?? -.greatestFiniteMagnitude))
            mm = Interval(point: Double(c.node.float("max") ?? .greatestFiniteMagnitude))
        } else {
            if c.has(1) {
                guard let b = c.bounds(1), b.count == 1 else { return [] }
                m = b.interval(0)
            }
            if c.has(2) {
                guard let b = c.bounds(2), b.count == 1 else { return [] }
                mm = b.interval(0)
            }
        }
        return map(c) { x in Interval(min(max(x.lo, m.lo), mm.lo), min(max(x.hi, m.hi), mm.hi)) }
    }
}
