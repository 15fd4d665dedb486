import Foundation

/// A closed real interval [lo, hi] in Double with outward-rounded arithmetic (``Outward``):
/// the result of every operation contains every real result of the operation on members of
/// the operands. ±∞ endpoints mean "no bound"; the empty interval does not occur (a NaN
/// endpoint becomes the infinite one).
struct Interval: Equatable {
    var lo: Double
    var hi: Double

    init(_ lo: Double, _ hi: Double) {
        self.lo = lo.isNaN ? -.infinity : lo
        self.hi = hi.isNaN ? .infinity : hi
    }

    init(point x: Double) { self.init(x, x) }

    static let entire = Interval(-Double.infinity, Double.infinity)
    static let unit = Interval(0.0, 1.0)

    var isPoint: Bool { lo == hi }
    var isFinite: Bool { lo.isFinite && hi.isFinite }
    var containsZero: Bool { lo <= 0 && hi >= 0 }
    /// max |x| over the interval.
    var magnitude: Double { max(abs(lo), abs(hi)) }
    /// min |x| over the interval.
    var mignitude: Double { lo > 0 ? lo : (hi < 0 ? -hi : 0) }

    /// The float32 interval containing this one.
    var floats: (Float, Float) { (Outward.floatDown(lo), Outward.floatUp(hi)) }

    func hull(_ o: Interval) -> Interval { Interval(min(lo, o.lo), max(hi, o.hi)) }

    func hull(_ x: Double) -> Interval { Interval(min(lo, x), max(hi, x)) }

    /// The intersection, or self when they do not meet (cannot happen for sound operands).
    func meet(_ o: Interval) -> Interval {
        let l = max(lo, o.lo), h = min(hi, o.hi)
        return l <= h ? Interval(l, h) : self
    }

    static prefix func - (a: Interval) -> Interval { Interval(-a.hi, -a.lo) }

    static func + (a: Interval, b: Interval) -> Interval {
        Interval(Outward.addDown(a.lo, b.lo), Outward.addUp(a.hi, b.hi))
    }

    static func - (a: Interval, b: Interval) -> Interval { a + (-b) }

    static func * (a: Interval, b: Interval) -> Interval {
        if a.isPoint && b.isPoint { return Interval(Outward.mulDown(a.lo, b.lo), Outward.mulUp(a.lo, b.lo)) }
        let ends = [(a.lo, b.lo), (a.lo, b.hi), (a.hi, b.lo), (a.hi, b.hi)]
        var l = Double.infinity, h = -Double.infinity
        for (x, y) in ends {
            l = min(l, Outward.mulDown(x, y))
            h = max(h, Outward.mulUp(x, y))
        }
        return Interval(l, h)
    }

    /// a/b; entire when b contains 0.
    static func / (a: Interval, b: Interval) -> Interval {
        guard !b.containsZero else { return .entire }
        let ends = [(a.lo, b.lo), (a.lo, b.hi), (a.hi, b.lo), (a.hi, b.hi)]
        var l = Double.infinity, h = -Double.infinity
        for (x, y) in ends {
            l = min(l, Outward.divDown(x, y))
            h = max(h, Outward.divUp(x, y))
        }
        return Interval(l, h)
    }

    /// a·s for a scalar s (exact Double).
    func scaled(_ s: Double) -> Interval { self * Interval(point: s) }

    func sqrt() -> Interval {
        guard lo >= 0 else { return hi >= 0 ? Interval(0, Outward.sqrtUp(hi)) : .entire }
        return Interval(Outward.sqrtDown(lo), Outward.sqrtUp(hi))
    }

    /// x² (not x·x: the two factors are the same number).
    func square() -> Interval {
        let m = magnitude, n = mignitude
        return Interval(Outward.mulDown(n, n), Outward.mulUp(m, m))
    }

    // MARK: Monotone libm functions

    /// f non-decreasing: [f(lo), f(hi)] widened for libm's error, clamped to f's range.
    func increasing(_ f: (Double) -> Double, range: Interval = .entire) -> Interval {
        Interval(Outward.libmDown(f(lo)), Outward.libmUp(f(hi))).meet(range)
    }

    /// f non-increasing: [f(hi), f(lo)].
    func decreasing(_ f: (Double) -> Double, range: Interval = .entire) -> Interval {
        Interval(Outward.libmDown(f(hi)), Outward.libmUp(f(lo))).meet(range)
    }

    func exp() -> Interval { increasing(Foundation.exp, range: Interval(0.0, .infinity)) }
    func expm1() -> Interval { increasing(Foundation.expm1, range: Interval(-1.0, .infinity)) }
    func tanh() -> Interval { increasing(Foundation.tanh, range: Interval(-1.0, 1.0)) }
    func erf() -> Interval { increasing(Foundation.erf, range: Interval(-1.0, 1.0)) }
    func erfc() -> Interval { decreasing(Foundation.erfc, range: Interval(0.0, 2.0)) }
    func log1p() -> Interval {
        guard lo > -1 else { return hi > -1 ? Interval(-.infinity, Outward.libmUp(Foundation.log1p(hi))) : .entire }
        return increasing(Foundation.log1p)
    }

    /// log x; −∞ below when the interval reaches 0, entire when it lies at or below 0.
    func log() -> Interval {
        guard hi > 0 else { return .entire }
        guard lo > 0 else { return Interval(-.infinity, Outward.libmUp(Foundation.log(hi))) }
        return increasing(Foundation.log)
    }

    /// σ(x) = 1/(1 + e^{−x}), increasing, in [0, 1].
    func sigmoid() -> Interval {
        let e = (-self).exp()
        return (Interval(point: 1) / (Interval(point: 1) + e)).meet(.unit)
    }

    /// softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}), increasing, ≥ 0.
    static func softplus(_ x: Double) -> Interval {
        let t = Interval(point: -abs(x)).exp().log1p()
        return (Interval(point: max(x, 0)) + t).meet(Interval(0.0, .infinity))
    }
}
