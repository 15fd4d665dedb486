import Foundation

/// Directed rounding without changing the FPU mode: every helper returns a value on the
/// requested side of the exact real result, so bounds computed with them are sound.
///
/// - **Float32 ← Double.** `floatDown(d)` is the largest float ≤ d (Swift's conversion rounds
///   to nearest; one `nextDown` fixes the side; a finite d beyond the float range becomes the
///   largest finite float on the sound side), NaN becomes −∞ (no information). Infinite Doubles
///   are exact: every helper below clamps an overflow of finite operands to the largest finite
///   Double on the sound side, so ±∞ only stands for "no bound" or a value that is ±∞ itself
///   (a −∞ attention mask).
/// - **One Double operation.** `add/mul/div/sqrt` + `Down`/`Up`: the correctly rounded result
///   r and its exact error term (TwoSum for sums, an FMA residual for products, quotients and
///   square roots; IEEE 754 makes these exact when nothing underflows) tell which side of the
///   real value r lies on; one `nextDown`/`nextUp` moves it across when needed, so exact results
///   (a point plus a point) stay exact. Below 2⁻⁹⁶⁰ the residual may underflow: the step is
///   taken unconditionally.
/// - **libm.** `exp`, `log`, `tanh`, `erf`, … are not correctly rounded; glibc documents at most
///   a few ulps for the double versions. `libmDown/Up` widen by 2⁻⁴⁴|y| (256 ulps) plus 2⁻¹⁰⁰⁰.
/// - **Float32 sums (γ_K).** A float32 sum or dot product of K terms, in any order and with or
///   without FMA, is within γ_K·Σ|terms| of the exact value, γ_K = K·u/(1 − K·u), u = 2⁻²⁴
///   (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1); products that underflow
///   (or are flushed to zero) add at most 2⁻¹²⁶ each, the `tiny` term.
enum Outward {
    /// u = 2⁻²⁴, the unit roundoff of float32.
    static let u32 = 0x1p-24
    /// Absolute error of one float32 product or flushed sum in the subnormal range (≥ 2⁻¹²⁶).
    static let tiny32 = 0x1p-125
    /// The relative widening of a libm result (256 double ulps).
    static let libmRelative = 0x1p-44
    static let libmAbsolute = 0x1p-1000
    /// Below this magnitude FMA/TwoSum residuals may underflow: always step outward.
    static let residualFloor = 0x1p-960

    /// γ_K = K·u/(1 − K·u) for float32 (∞ once K·u ≥ 1/2, where the bound is useless).
    static func gamma(_ k: Int) -> Double {
        let ku = Double(max(k, 1)) * u32
        return ku < 0.5 ? (ku / (1 - ku)).nextUp : .infinity
    }

    // MARK: Float32 from Double

    /// The largest float ≤ d (NaN → −∞).
    @inline(__always) static func floatDown(_ d: Double) -> Float {
        if d.isNaN { return -.infinity }
        if d.isInfinite { return Float(d) }
        let f = Float(d)
        return Double(f) > d ? f.nextDown : f
    }

    /// The smallest float ≥ d (NaN → +∞).
    @inline(__always) static func floatUp(_ d: Double) -> Float {
        if d.isNaN { return .infinity }
        if d.isInfinite { return Float(d) }
        let f = Float(d)
        return Double(f) < d ? f.nextUp : f
    }

    /// The largest float ≤ v and the smallest ≥ v, for an integer constant (exact below 2²⁴).
    static func floatBounds(_ v: Int64) -> (Float, Float) {
        let f = Float(v)
        // Float(v) is an integer-valued float; below 2⁶³ it converts back exactly.
        let above: Bool = f >= 0x1p63 ? true : (f <= -0x1p63 ? false : Int64(f) > v)
        let below: Bool = f >= 0x1p63 ? false : (f <= -0x1p63 ? Int64.min < v : Int64(f) < v)
        return (above ? f.nextDown : f, below ? f.nextUp : f)
    }

    // MARK: One correctly rounded Double operation, directed

    @inline(__always) private static func settle(_ r: Double, exactAbove: Bool, exactBelow: Bool, down: Bool) -> Double {
        // r is the rounded result; exactAbove: the real value is above r.
        if r.isNaN { return down ? -.infinity : .infinity }
        if r.isInfinite { return down ? (r > 0 ? .greatestFiniteMagnitude : r) : (r < 0 ? -.greatestFiniteMagnitude : r) }
        if abs(r) < residualFloor && r != 0 { return down ? r.nextDown : r.nextUp }
        if down { return exactBelow ? r.nextDown : r }
        return exactAbove ? r.nextUp : r
    }

    /// TwoSum error: a + b = s + e exactly.
    @inline(__always) private static func twoSum(_ a: Double, _ b: Double) -> (Double, Double) {
        let s = a + b
        let bb = s - a
        return (s, (a - (s - bb)) + (b - bb))
    }

    // An infinite operand makes an infinite (or undefined) result exactly; only an overflow of
    // finite operands is clamped to the largest finite value on the sound side.
    static func addDown(_ a: Double, _ b: Double) -> Double {
        if a == -.infinity || b == -.infinity { return -.infinity }
        if a == .infinity || b == .infinity { return .infinity }
        let (s, e) = twoSum(a, b)
        if s.isFinite && s == 0 && e == 0 { return 0 }
        return settle(s, exactAbove: e > 0, exactBelow: e < 0 || !e.isFinite, down: true)
    }

    static func addUp(_ a: Double, _ b: Double) -> Double {
        if a == .infinity || b == .infinity { return .infinity }
        if a == -.infinity || b == -.infinity { return -.infinity }
        let (s, e) = twoSum(a, b)
        if s.isFinite && s == 0 && e == 0 { return 0 }
        return settle(s, exactAbove: e > 0 || !e.isFinite, exactBelow: e < 0, down: false)
    }

    /// a·b with the interval convention 0·∞ = 0 (an endpoint ∞ means "no bound", not a value).
    static func mulDown(_ a: Double, _ b: Double) -> Double {
        if a == 0 || b == 0 { return 0 }
        let p = a * b
        if a.isInfinite || b.isInfinite { return p.isNaN ? -.infinity : p }
        if !p.isFinite { return settle(p, exactAbove: false, exactBelow: true, down: true) }
        let e = (-p).addingProduct(a, b)   // a·b − p, exact
        return settle(p, exactAbove: e > 0, exactBelow: e < 0, down: true)
    }

    static func mulUp(_ a: Double, _ b: Double) -> Double {
        if a == 0 || b == 0 { return 0 }
        let p = a * b
        if a.isInfinite || b.isInfinite { return p.isNaN ? .infinity : p }
        if !p.isFinite { return settle(p, exactAbove: true, exactBelow: false, down: false) }
        let e = (-p).addingProduct(a, b)
        return settle(p, exactAbove: e > 0, exactBelow: e < 0, down: false)
    }

    /// a/b for b ≠ 0 (∞/∞ → no information).
    static func divDown(_ a: Double, _ b: Double) -> Double {
        if a == 0 && b != 0 { return 0 }
        let q = a / b
        if a.isInfinite != b.isInfinite { return q }
        if !q.isFinite || a.isInfinite || b.isInfinite { return settle(q, exactAbove: false, exactBelow: true, down: true) }
        let r = a.addingProduct(-q, b)     // a − q·b, exact; the real quotient is q + r/b
        let above = (r > 0) == (b > 0) && r != 0
        return settle(q, exactAbove: above, exactBelow: r != 0 && !above, down: true)
    }

    static func divUp(_ a: Double, _ b: Double) -> Double {
        if a == 0 && b != 0 { return 0 }
        let q = a / b
        if a.isInfinite != b.isInfinite { return q }
        if !q.isFinite || a.isInfinite || b.isInfinite { return settle(q, exactAbove: true, exactBelow: false, down: false) }
        let r = a.addingProduct(-q, b)
        let above = (r > 0) == (b > 0) && r != 0
        return settle(q, exactAbove: above, exactBelow: r != 0 && !above, down: false)
    }

    static func sqrtDown(_ x: Double) -> Double {
        guard x > 0 else { return x == 0 ? 0 : -.infinity }
        if x == .infinity { return .greatestFiniteMagnitude }
        let s = x.squareRoot()
        let r = x.addingProduct(-s, s)     // x − s², exact
        return settle(s, exactAbove: r > 0, exactBelow: r < 0, down: true)
    }

    static func sqrtUp(_ x: Double) -> Double {
        guard x > 0 else { return x == 0 ? 0 : .infinity }
        if x == .infinity { return .infinity }
        let s = x.squareRoot()
        let r = x.addingProduct(-s, s)
        return settle(s, exactAbove: r > 0, exactBelow: r < 0, down: false)
    }

    // MARK: libm results

    /// A lower bound of the real f(x) from libm's y ≈ f(x).
    @inline(__always) static func libmDown(_ y: Double) -> Double {
        if y.isNaN { return -.infinity }
        if y == .infinity { return .greatestFiniteMagnitude }
        return y - abs(y) * libmRelative - libmAbsolute
    }

    @inline(__always) static func libmUp(_ y: Double) -> Double {
        if y.isNaN { return .infinity }
        if y == -.infinity { return -.greatestFiniteMagnitude }
        return y + abs(y) * libmRelative + libmAbsolute
    }

    /// [c − r, c + r] as floats, for a centre c computed with at most a few correctly rounded
    /// Double operations whose partial results are at most |c| + r in magnitude, and a radius r
    /// that is already an upper bound: widened by 2⁻⁵⁰(|c| + r), which covers eight roundings.
    @inline(__always) static func enclose(_ c: Double, _ r: Double) -> (Float, Float) {
        let e = (abs(c) + r) * 0x1p-50 + 0x1p-1000
        return (floatDown(c - r - e), floatUp(c + r + e))
    }
}
