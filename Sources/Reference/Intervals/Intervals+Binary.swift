import Foundation
import ONNX
import Sensitivity

/// Elementwise ops of several inputs with numpy broadcasting (Reference's
/// `IndexTable.broadcast` maps), by interval arithmetic per element in Double, rounded
/// outward to float32:
/// - Add, Sub, Sum, Mean: endpoint sums (Sub: minus the other operand's opposite end);
///   Mul: the hull of the four endpoint products (x² when both operands are the same tensor:
///   [min|x|², max|x|²]); Div: the four quotients, unbounded when the divisor's interval
///   contains 0 (an integer Div is the rounded real quotient: the evaluator widens to
///   [⌊lo⌋, ⌈hi⌉]);
/// - Max, Min: non-decreasing in every operand: the max (min) of the lower and of the upper
///   bounds, exact;
/// - Pow with a known exponent e per element: e = 0 → 1; integer e > 0 odd → increasing,
///   even → minimum 0 at 0; integer e < 0 → monotone on each side of the pole at 0 (0 inside
///   → unbounded); real e: needs a base ≥ 0 (negative bases give NaN → unbounded),
///   increasing for e > 0, decreasing for e < 0 (base reaching 0 → up to +∞). A varying
///   exponent with a base > 0: x^y = exp(y·ln x) with y·ln x bilinear, so the extremes are
///   at the four corners;
/// - PRelu: x on x ≥ 0, slope·x on x < 0 (interval product with the slope's interval);
/// - Where: the selected operand when the condition is a point, else the hull of both;
/// - Mod: |x mod b| < |b| (fmod = 0 takes b's sign, fmod = 1 x's sign);
/// - comparisons, And, Or, Xor: 1 or 0 when the intervals decide it, else [0, 1].
enum BinaryRules {
    /// The broadcast shape of inputs `ids` and, per input, its index table (nil: same shape).
    static func broadcast(_ c: IntervalNode, _ ids: [Int]) -> (shape: [Int], inputs: [TensorBounds], tables: [[Int32]?])? {
        var inputs: [TensorBounds] = []
        var shape: [Int] = []
        for i in ids {
            guard let b = c.bounds(i), let s = Shapes.broadcast(shape, b.shape) else { return nil }
            inputs.append(b)
            shape = s
        }
        return (shape, inputs, inputs.map { $0.shape == shape ? nil : IndexTable.broadcast($0.shape, to: shape) })
    }

    /// f over the broadcast elements of inputs `ids` (default: all given inputs).
    static func zipped(_ c: IntervalNode, _ ids: [Int]? = nil, _ f: ([Interval]) -> Interval) -> [TensorBounds?] {
        let ids = ids ?? c.node.inputs.indices.filter { c.has($0) }
        guard !ids.isEmpty, let (shape, inputs, tables) = broadcast(c, ids) else { return [] }
        let n = shape.reduce(1, *)
        var args = [Interval](repeating: .entire, count: inputs.count)
        return [TensorBounds(shape: shape, count: n) { i in
            for k in inputs.indices {
                let j = tables[k].map { Int($0[i]) } ?? i
                args[k] = inputs[k].interval(j)
            }
            return f(args)
        }]
    }

    static func binary(_ f: @escaping @Sendable (Interval, Interval) -> Interval) -> IntervalRule {
        { c throws(ReferenceError) in zipped(c, [0, 1]) { f($0[0], $0[1]) } }
    }

    static let rules: [String: IntervalRule] = [
        "Add": binary(+), "Sub": binary(-), "Div": binary(/),
        "Mul": { c throws(ReferenceError) in
            if c.node.inputs.count == 2, c.node.inputs[0] == c.node.inputs[1] {
                return Activations.map(c) { $0.square() }
            }
            return zipped(c, [0, 1]) { $0[0] * $0[1] }
        },
        "Sum": { c throws(ReferenceError) in zipped(c) { $0.dropFirst().reduce($0[0], +) } },
        "Mean": { c throws(ReferenceError) in
            zipped(c) { a in a.dropFirst().reduce(a[0], +) / Interval(point: Double(a.count)) }
        },
        "Max": { c throws(ReferenceError) in
            zipped(c) { a in Interval(a.map(\.lo).max() ?? -.infinity, a.map(\.hi).max() ?? .infinity) }
        },
        "Min": { c throws(ReferenceError) in
            zipped(c) { a in Interval(a.map(\.lo).min() ?? -.infinity, a.map(\.hi).min() ?? .infinity) }
        },
        "Pow": binary(power),
        "PRelu": binary { x, s in
            guard x.lo < 0 else { return x }
            let neg = Interval(x.lo, min(x.hi, 0)) * s
            return x.hi > 0 ? neg.hull(Interval(0, x.hi)) : neg
        },
        "Where": { c throws(ReferenceError) in
            zipped(c, [0, 1, 2]) { a in a[0].isPoint ? (a[0].lo != 0 ? a[1] : a[2]) : a[1].hull(a[2]) }
        },
        "Mod": { c throws(ReferenceError) in
            let fmod = c.node.int("fmod") == 1
            return zipped(c, [0, 1]) { a in
                let m = a[1].magnitude
                guard m.isFinite else { return .entire }
                let sign = fmod ? a[0] : a[1]
                return Interval(sign.lo >= 0 ? 0 : -m, sign.hi <= 0 ? 0 : m)
            }
        },
        "Less": binary { a, b in decide(a.hi < b.lo, a.lo >= b.hi) },
        "Greater": binary { a, b in decide(a.lo > b.hi, a.hi <= b.lo) },
        "LessOrEqual": binary { a, b in decide(a.hi <= b.lo, a.lo > b.hi) },
        "GreaterOrEqual": binary { a, b in decide(a.lo >= b.hi, a.hi < b.lo) },
        "Equal": binary { a, b in decide(a.isPoint && b.isPoint && a.lo == b.lo, a.hi < b.lo || b.hi < a.lo) },
        "And": binary { a, b in Interval(a.lo != 0 && b.lo != 0 ? 1 : 0, a.hi != 0 && b.hi != 0 ? 1 : 0) },
        "Or": binary { a, b in Interval(a.lo != 0 || b.lo != 0 ? 1 : 0, a.hi != 0 || b.hi != 0 ? 1 : 0) },
        "Xor": binary { a, b in a.isPoint && b.isPoint ? Interval(point: (a.lo != 0) != (b.lo != 0) ? 1 : 0) : .unit },
    ]

    /// 1 when `yes` is certain, 0 when `no` is, else [0, 1].
    static func decide(_ yes: Bool, _ no: Bool) -> Interval { yes ? Interval(point: 1) : (no ? Interval(point: 0) : .unit) }

    static func powPoint(_ x: Double, _ e: Double) -> Interval {
        let y = Foundation.pow(x, e)
        return Interval(Outward.libmDown(y), Outward.libmUp(y))
    }

    /// x^e over intervals (see the type's comment).
    static func power(_ x: Interval, _ e: Interval) -> Interval {
        if e.isPoint {
            let k = e.lo
            if k == 0 { return Interval(point: 1) }
            guard k.isFinite else { return .entire }
            if k == k.rounded(), abs(k) < 0x1p53 {
                if k < 0 && x.containsZero { return .entire }
                let even = k.truncatingRemainder(dividingBy: 2) == 0
                let breaks = even && k > 0 ? Activations.zeroKink : []
                return Activations.range(x, { powPoint($0, k) }, breaks: breaks)
            }
            guard x.lo >= 0 else { return .entire }
            if k < 0 && x.lo == 0 { return Interval(powPoint(x.hi, k).lo, .infinity) }
            return Activations.range(x, { powPoint($0, k) })
        }
        guard x.lo > 0 else { return .entire }
        return powPoint(x.lo, e.lo).hull(powPoint(x.lo, e.hi)).hull(powPoint(x.hi, e.lo)).hull(powPoint(x.hi, e.hi))
    }
}
