import Foundation
import ONNX
import Sensitivity

/// Elementary functions, elementwise, exact range per element (libm results widened by
/// ``Outward/libmDown(_:)``):
/// - increasing: Exp, Erf, Atan, Sinh, Asinh, Atanh (on (−1, 1)), Log (a ≤ 0 < b → [−∞, log b];
///   b ≤ 0 → unbounded), Sqrt (a < 0: undefined there → unbounded);
/// - decreasing on each side of a pole: Reciprocal (0 ∈ [a, b] → unbounded);
/// - Cosh (minimum 1 at 0); Sin and Cos (the extremes ±1 when [a, b] reaches a point π/2 + kπ,
///   resp. kπ, found in Double with a slack of 10⁻⁹·max(1, |a|, |b|); [−1, 1] once b − a ≥ 2π);
/// - GELU x·Φ(x) (minimum −0.16997120747990… at −0.75179152469…), GELU-tanh
///   x·σ(2√(2/π)(x + 0.044715x³)) (minimum −0.17004075057125… at −0.75246142207…), and Mish
///   x·tanh(softplus x) (minimum −0.30884341301725… at −1.19243121451…): unimodal, see
///   ``Activations``.
enum Elementary {
    typealias B = Activations.Breakpoint
    @inline(__always) static func p(_ x: Double) -> Interval { Interval(point: x) }

    /// √2 and √(2/π) as enclosures (one ulp either side of the rounded value).
    static let sqrt2 = Interval(point: 2).sqrt()
    static let sqrtTwoOverPi = Interval(0.7978845608028654.nextDown, 0.7978845608028654.nextUp)
    static let geluCubic = Interval(0.044715.nextDown, 0.044715.nextUp)

    static let rules: [String: IntervalRule] = [
        "Exp": Activations.piecewise([]) { p($0).exp() },
        "Erf": Activations.piecewise([]) { p($0).erf() },
        "Atan": Activations.piecewise([]) { p($0).increasing(Foundation.atan, range: Interval(-Double.pi.nextUp / 2, Double.pi.nextUp / 2)) },
        "Sinh": Activations.piecewise([]) { p($0).increasing(Foundation.sinh) },
        "Asinh": Activations.piecewise([]) { p($0).increasing(Foundation.asinh) },
        "Cosh": Activations.piecewise([B(at: 0, value: p(1))]) { p($0).increasing(Foundation.cosh, range: Interval(1.0, .infinity)) },
        "Atanh": { c throws(ReferenceError) in
            Activations.map(c) { x in x.lo > -1 && x.hi < 1 ? Activations.range(x, { p($0).increasing(Foundation.atanh) }) : .entire }
        },
        "Log": { c throws(ReferenceError) in
            Activations.map(c) { x in x.hi <= 0 ? .entire : (x.lo > 0 ? Activations.range(x, { p($0).log() }) : Interval(-.infinity, p(x.hi).log().hi)) }
        },
        "Sqrt": { c throws(ReferenceError) in Activations.map(c) { x in x.lo < 0 ? .entire : x.sqrt() } },
        "Reciprocal": { c throws(ReferenceError) in
            Activations.map(c) { x in x.containsZero ? .entire : Activations.range(x, { p(1) / p($0) }) }
        },
        "Sin": { c throws(ReferenceError) in Activations.map(c) { periodic($0, phase: Double.pi / 2, Foundation.sin) } },
        "Cos": { c throws(ReferenceError) in Activations.map(c) { periodic($0, phase: 0, Foundation.cos) } },
        "Gelu": { c throws(ReferenceError) in
            let tanhForm = c.node.string("approximate") == "tanh"
            return Activations.map(c) { x in
                tanhForm ? Activations.range(x, geluTanh, breaks: [B(at: -0.75246142207, slack: 1e-6, value: p(-0.17004075058))])
                         : Activations.range(x, gelu, breaks: [B(at: -0.75179152469, slack: 1e-6, value: p(-0.16997120749))])
            }
        },
        "Mish": Activations.piecewise([B(at: -1.19243121452, slack: 1e-6, value: p(-0.30884341302))]) { mish($0) },
    ]

    /// x·Φ(x) = x·erfc(−x/√2)/2.
    static func gelu(_ x: Double) -> Interval {
        if x.isInfinite { return p(x > 0 ? x : 0) }
        return (p(x) * (p(-x) / sqrt2).erfc()).scaled(0.5)
    }

    /// x·(1 + tanh z)/2 = x·σ(2z), z = √(2/π)(x + 0.044715x³).
    static func geluTanh(_ x: Double) -> Interval {
        if x.isInfinite { return p(x > 0 ? x : 0) }
        let z = sqrtTwoOverPi * (p(x) + geluCubic * (p(x) * p(x) * p(x)))
        return p(x) * z.scaled(2).sigmoid()
    }

    /// x·tanh(softplus x).
    static func mish(_ x: Double) -> Interval {
        if x.isInfinite { return p(x > 0 ? x : 0) }
        return p(x) * Interval.softplus(x).tanh()
    }

    /// sin or cos (f(x) = sin(x + π/2 − phase)) on an interval: the maximum 1 at
    /// phase + 2kπ, the minimum −1 at phase + π + 2kπ.
    static func periodic(_ x: Interval, phase: Double, _ f: (Double) -> Double) -> Interval {
        let unit = Interval(-1.0, 1.0)
        guard x.isFinite, x.hi - x.lo < 2 * Double.pi, max(abs(x.lo), abs(x.hi)) < 0x1p40 else { return unit }
        let slack = 1e-9 * max(1, abs(x.lo), abs(x.hi))
        func reaches(_ t0: Double) -> Bool {
            let k = ((x.lo - slack - t0) / (2 * Double.pi)).rounded(.up)
            return t0 + 2 * Double.pi * k <= x.hi + slack
        }
        var r = Interval(Outward.libmDown(f(x.lo)), Outward.libmUp(f(x.lo)))
            .hull(Interval(Outward.libmDown(f(x.hi)), Outward.libmUp(f(x.hi))))
        if reaches(phase) { r = r.hull(1) }
        if reaches(phase + Double.pi) { r = r.hull(-1) }
        return r.meet(unit)
    }
}
