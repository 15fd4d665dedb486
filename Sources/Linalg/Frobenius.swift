// The Frobenius norm of float32 data.

/// The Frobenius (entrywise ℓ2) norm.
public enum Frobenius {
    /// ‖x‖₂ = √(Σ xᵢ²) of float32 data, accumulated in float64 (scaled to avoid overflow).
    ///
    /// Scaling: every float32 square lies in [2⁻²⁹⁸, 2²⁵⁶] ⊂ float64's normal range and a sum
    /// of at most 2⁶³ of them stays below 2³²⁰ ≪ 2¹⁰²⁴, so the float64 accumulation is the
    /// classical scaled sum (LAPACK `dnrm2`'s purpose) with the scale already built into the wider
    /// exponent: no overflow and no underflow of a nonzero square is possible.
    /// Accuracy: eight independent float64 partial sums (also what lets the loop vectorize),
    /// relative error ≤ (n/8 + 3)·2⁻⁵³. A NaN gives NaN, an infinity +∞; empty data gives 0.
    public static func norm(_ x: UnsafeBufferPointer<Float>) -> Double {
        (sumOfSquares(x)).squareRoot()
    }

    /// Σ xᵢ² in float64 (see ``norm(_:)``).
    public static func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Double {
        guard let base = x.baseAddress else { return 0 }
        let n = x.count
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0
        var i = 0
        while i + 8 <= n {
            let a0 = Double(base[i]), a1 = Double(base[i + 1]), a2 = Double(base[i + 2]), a3 = Double(base[i + 3])
            let a4 = Double(base[i + 4]), a5 = Double(base[i + 5]), a6 = Double(base[i + 6]), a7 = Double(base[i + 7])
            s0 += a0 * a0; s1 += a1 * a1; s2 += a2 * a2; s3 += a3 * a3
            s4 += a4 * a4; s5 += a5 * a5; s6 += a6 * a6; s7 += a7 * a7
            i += 8
        }
        while i < n { let a = Double(base[i]); s0 += a * a; i += 1 }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    }

    /// ‖x‖₂ of float64 data with the two-pass scaling of LAPACK `dnrm2` (divide by max|xᵢ|),
    /// so that no square overflows or underflows. NaN gives NaN, an infinity +∞.
    public static func norm(_ x: UnsafeBufferPointer<Double>) -> Double {
        var scale = 0.0
        for v in x {
            if v.isNaN { return .nan }
            scale = max(scale, abs(v))
        }
        if scale == 0 { return 0 }
        if scale.isInfinite { return .infinity }
        var s = 0.0
        for v in x { let t = v / scale; s += t * t }
        return scale * s.squareRoot()
    }
}
