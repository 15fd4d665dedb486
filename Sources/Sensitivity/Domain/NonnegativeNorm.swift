import Foundation

/// A certified upper bound of ‖M‖₂ for an entrywise non-negative matrix M (the magnitude
/// matrices of interval operands).
///
/// For M ≥ 0 and any positive vector v, ρ(MᵀM) ≤ max_j (MᵀMv)_j / v_j (Collatz–Wielandt), so
/// ‖M‖₂ ≤ √(that). v comes from 30 power steps on MᵀM from the all-ones vector (the iterates
/// stay positive; a floor of 1e-300 keeps them so), which makes the bound tight; any v is
/// valid. The result is min(that, ‖M‖_F, √(‖M‖₁‖M‖∞)), each inflated for the rounding of its
/// Double sums (a relative (n + 8)·2⁻⁵² for sums of n non-negative terms) and rounded up.
enum NonnegativeNorm {
    static func upper(_ m: [Double], rows: Int, cols: Int) -> Double {
        guard rows > 0, cols > 0, m.count == rows * cols else { return 0 }
        guard m.allSatisfy(\.isFinite) else { return .infinity }
        let slack = 1 + Double(rows + cols + 8) * 0x1p-52
        // Frobenius and √(‖M‖₁‖M‖∞).
        var frob = 0.0
        var rowSum = [Double](repeating: 0, count: rows), colSum = [Double](repeating: 0, count: cols)
        for i in 0..<rows {
            for j in 0..<cols {
                let v = m[i * cols + j]
                frob += v * v
                rowSum[i] += v
                colSum[j] += v
            }
        }
        let frobenius = (frob * slack).squareRoot()
        let schur = ((rowSum.max() ?? 0) * (colSum.max() ?? 0) * slack * slack).squareRoot()
        // Power steps on MᵀM, then the Collatz–Wielandt quotient.
        var v = [Double](repeating: 1, count: cols)
        var mv = [Double](repeating: 0, count: rows), mtmv = [Double](repeating: 0, count: cols)
        func apply() {
            for i in 0..<rows {
                var s = 0.0
                for j in 0..<cols { s += m[i * cols + j] * v[j] }
                mv[i] = s
            }
            for j in 0..<cols { mtmv[j] = 0 }
            for i in 0..<rows {
                let s = mv[i]
                for j in 0..<cols { mtmv[j] += m[i * cols + j] * s }
            }
        }
        let steps = rows * cols > 1 << 22 ? 5 : 30
        for _ in 0..<steps {
            apply()
            let top = mtmv.max() ?? 0
            guard top > 0 else { return 0 }
            for j in 0..<cols { v[j] = max(mtmv[j] / top, 1e-300) }
        }
        apply()
        var quotient = 0.0
        for j in 0..<cols { quotient = max(quotient, mtmv[j] / v[j]) }
        let cw = (quotient * slack * slack).squareRoot()
        return min(cw, frobenius, schur).nextUp
    }
}

/// A sound lower bound of the smallest variance a vector whose entries lie in boxes
/// [l_i, h_i] can have (LayerNorm's var_lower).
///
/// v(x) = min_m (1/K)Σ(x_i − m)², so min over the box is (1/K)·min_m F(m) with
/// F(m) = Σ dist(m, [l_i, h_i])², convex and piecewise quadratic, F'(m) = 2[Σ(m − h_i)₊ −
/// Σ(l_i − m)₊] non-decreasing. 0 when the boxes share a point. Otherwise the stationary point
/// m* comes from a sweep over the sorted endpoints; because a computed m* only gives an upper
/// bound F(m*), the result is certified: with m_a < m* < m_b and F'(m_a) < 0 < F'(m_b) (each
/// beyond its rounding error), convexity gives min F ≥ min(F(m_a) − |F'(m_a)|·(m_b − m_a),
/// F(m_b)); rounded down. When the certificate fails ten times, 0 (always sound).
enum VarianceBound {
    static func lower(lo: [Double], hi: [Double]) -> Double {
        let k = lo.count
        guard k > 0, lo.allSatisfy(\.isFinite), hi.allSatisfy(\.isFinite) else { return 0 }
        guard let maxLo = lo.max(), let minHi = hi.min(), maxLo > minHi else { return 0 }
        let u = 0x1p-53
        // Sweep: on the segment between consecutive endpoints, F'(m) = 2[(n_h m − S_h) − (S_l − n_l m)].
        let points = Array(Set(lo + hi)).sorted()
        let sortedHi = hi.sorted(), sortedLo = lo.sorted()
        var prefixHi = [0.0], suffixLo = [Double](repeating: 0, count: k + 1)
        for h in sortedHi { prefixHi.append(prefixHi[prefixHi.count - 1] + h) }
        for i in stride(from: k - 1, through: 0, by: -1) { suffixLo[i] = suffixLo[i + 1] + sortedLo[i] }
        var mStar = (maxLo + minHi) / 2
        var hiIndex = 0, loIndex = 0
        for s in 0..<(points.count - 1) {
            let a = points[s], b = points[s + 1]
            while hiIndex < k && sortedHi[hiIndex] <= a { hiIndex += 1 }
            while loIndex < k && sortedLo[loIndex] < b { loIndex += 1 }
            let nh = hiIndex, nl = k - loIndex
            guard nh + nl > 0 else { continue }
            let m = (prefixHi[nh] + suffixLo[loIndex]) / Double(nh + nl)
            if m >= a && m <= b { mStar = m; break }
        }
        func f(_ m: Double) -> (value: Double, slope: Double, magnitude: Double) {
            var v = 0.0, d = 0.0, mag = 0.0
            for i in 0..<k {
                if m > hi[i] { let t = m - hi[i]; v += t * t; d += t; mag += abs(m) + abs(hi[i]) }
                if m < lo[i] { let t = lo[i] - m; v += t * t; d -= t; mag += abs(m) + abs(lo[i]) }
            }
            return (v, 2 * d, 2 * mag)
        }
        var eta = 1e-9 * (abs(mStar) + (hi.max() ?? 0) - (lo.min() ?? 0) + 1e-300)
        for _ in 0..<10 {
            let ma = mStar - eta, mb = mStar + eta
            let fa = f(ma), fb = f(mb)
            let err = Double(2 * k + 4) * u * max(fa.magnitude, fb.magnitude)
            if fa.slope + err < 0, fb.slope - err > 0 {
                let bound = min(fa.value - (abs(fa.slope) + err) * 2 * eta, fb.value)
                let lowered = bound * (1 - Double(k + 6) * u) / Double(k)
                return max(0, lowered * (1 - 2 * u))
            }
            eta *= 10
        }
        return 0
    }
}
