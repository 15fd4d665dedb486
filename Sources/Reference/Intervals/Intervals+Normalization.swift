import Foundation
import ONNX
import Sensitivity

/// Normalizations, in Double with outward rounding.
/// - **BatchNormalization** (inference): y = (x − μ_c)·(γ_c/√(σ²_c + ε)) + β_c per element, exact
///   interval arithmetic (any parameter may be an interval too). Training mode: no rule.
/// - **LayerNormalization, InstanceNormalization, GroupNormalization**: over each group of K
///   elements (the trailing axes from `axis`; one (n, c) plane; one (n, group) block), with
///   d = x − mean(x), σ² = mean(d²) and z = d/√(σ² + ε), y = γ·z + β:
///   * |z_i| ≤ √(K − 1) always: Σ_j d_j = 0 gives d_i² = (Σ_{j≠i} d_j)² ≤ (K − 1)·Σ_{j≠i} d_j²
///     (Cauchy–Schwarz) = (K − 1)(Kσ² − d_i²), so d_i² ≤ (K − 1)σ² and
///     |z_i| ≤ √(K − 1)·σ/√(σ² + ε) < √(K − 1);
///   * tighter on a narrow box: d_i = (1 − 1/K)x_i − (1/K)Σ_{j≠i} x_j ranges over
///     [(1 − 1/K)l_i − (S_h − h_i)/K, (1 − 1/K)h_i − (S_l − l_i)/K] (S = Σ of the bounds), and
///     σ² ≥ v = min_x (1/K)Σ(x_j − x̄)² = min_c (1/K)Σ_j dist(c, [l_j, h_j])², a convex function
///     of c minimised by bisection on its derivative and certified by convexity:
///     v ≥ f(c₀) − |f′(c₀)|·max(c₀ − min l, max h − c₀); σ² ≤ min((max h − min l)²/4, (1/K)Σ max d_j²)
///     (Popoviciu). z_i ∈ [d_lo/√(v_{lo or hi} + ε), d_hi/√(…)] intersected with ±√(K − 1).
///   The optional Mean and InvStdDev outputs get [S_l/K, S_h/K] and 1/√(σ² + ε) over those
///   variance bounds.
/// - **LRN**: y = x/(bias + α/size·Σ_window x²)^β, the denominator as an interval (β > 0).
enum NormalizationRules {
    static let rules: [String: IntervalRule] = [
        "BatchNormalization": batchNorm, "LayerNormalization": layerNorm,
        "InstanceNormalization": instanceNorm, "GroupNormalization": groupNorm, "LRN": lrn,
    ]

    static let batchNorm: IntervalRule = { c throws(ReferenceError) in
        guard (c.node.int("training_mode") ?? 0) == 0, let x = c.bounds(0), x.shape.count >= 2 else { return [] }
        var params: [TensorBounds] = []
        for i in 1...4 {
            guard let b = c.bounds(i), b.count == x.shape[1] else { return [] }
            params.append(b)
        }
        let eps = Interval(point: Double(c.node.float("epsilon") ?? 1e-5))
        let factor = (0..<x.shape[1]).map { ch in params[0].interval(ch) / (params[3].interval(ch) + eps).sqrt() }
        let spatial = x.shape.dropFirst(2).reduce(1, *), channels = x.shape[1]
        return [TensorBounds(shape: x.shape, count: x.count) { i in
            let ch = (i / spatial) % channels
            return (x.interval(i) - params[2].interval(ch)) * factor[ch] + params[1].interval(ch)
        }]
    }

    /// Per element the bounds of z, per group those of the mean and of 1/√(σ² + ε), for
    /// contiguous groups of `k` elements.
    static func normalize(_ x: TensorBounds, k: Int, eps: Double) -> (z: [Interval], mean: [Interval], invStd: [Interval]) {
        let groups = x.count / max(k, 1)
        var z = [Interval](repeating: .entire, count: x.count)
        var mean: [Interval] = [], invStd: [Interval] = []
        let limit = Interval(point: Double(max(k - 1, 0))).sqrt().hi
        let e = Interval(point: eps)
        for g in 0..<groups {
            let base = g * k
            var sl = Interval(point: 0), sh = sl
            var lmin = Double.infinity, hmax = -Double.infinity
            for j in base..<(base + k) {
                sl = sl + Interval(point: Double(x.lo[j]))
                sh = sh + Interval(point: Double(x.hi[j]))
                lmin = min(lmin, Double(x.lo[j])); hmax = max(hmax, Double(x.hi[j]))
            }
            let kk = Interval(point: Double(k)), km1 = Double(k - 1)
            var d = [Interval](repeating: .entire, count: k)
            var dmax = Interval(point: 0)
            for j in 0..<k {
                let l = Double(x.lo[base + j]), h = Double(x.hi[base + j])
                let lo = (Interval(point: l).scaled(km1) - (sh - Interval(point: h))) / kk
                let hi = (Interval(point: h).scaled(km1) - (sl - Interval(point: l))) / kk
                d[j] = Interval(lo.lo, hi.hi)
                dmax = dmax + Interval(point: d[j].magnitude).square()
            }
            let vlo = Interval(point: varianceLowerBound(x, base, k, lmin, hmax))
            let range = Interval(point: hmax) - Interval(point: lmin)
            let vhi = min((range.square() / Interval(point: 4)).hi, (dmax / kk).hi)
            let denLo = (vlo + e).sqrt(), denHi = (Interval(point: vhi) + e).sqrt()
            for j in 0..<k {
                let dj = d[j]
                let zl = dj.lo < 0 ? (Interval(point: dj.lo) / denLo).lo : (Interval(point: dj.lo) / denHi).lo
                let zh = dj.hi > 0 ? (Interval(point: dj.hi) / denLo).hi : (Interval(point: dj.hi) / denHi).hi
                z[base + j] = k == 1 ? Interval(point: 0) : Interval(max(zl, -limit), min(zh, limit))
            }
            mean.append(Interval(sl.lo, sh.hi) / kk)
            invStd.append(Interval((Interval(point: 1) / denHi).lo, (Interval(point: 1) / denLo).hi))
        }
        return (z, mean, invStd)
    }

    /// A certified lower bound of min over the box of (1/K)Σ(x_j − x̄)² for elements
    /// [base, base + k): f(c) = (1/K)Σ dist(c, [l_j, h_j])² is convex, f(c₀) − |f′(c₀)|·w ≤ min f
    /// for any c₀ in [L, H] ∋ argmin, w = max(c₀ − L, H − c₀); f and f′ in directed rounding.
    static func varianceLowerBound(_ x: TensorBounds, _ base: Int, _ k: Int, _ lmin: Double, _ hmax: Double) -> Double {
        guard k > 1, lmin.isFinite, hmax.isFinite else { return 0 }
        func slope(_ c: Double) -> Double {
            var s = 0.0
            for j in base..<(base + k) {
                let l = Double(x.lo[j]), h = Double(x.hi[j])
                if c < l { s += c - l } else if c > h { s += c - h }
            }
            return s
        }
        var a = lmin, b = hmax
        for _ in 0..<80 where a < b {
            let m = a * 0.5 + b * 0.5
            if m <= a || m >= b { break }
            if slope(m) < 0 { a = m } else { b = m }
        }
        let c0 = a * 0.5 + b * 0.5
        var f = Interval(point: 0), g = Interval(point: 0)
        for j in base..<(base + k) {
            let l = Double(x.lo[j]), h = Double(x.hi[j])
            let dist = c0 < l ? Interval(point: l) - Interval(point: c0) : (c0 > h ? Interval(point: c0) - Interval(point: h) : Interval(point: 0))
            f = f + dist.square()
            g = g + (c0 < l ? -dist : dist)
        }
        let kk = Interval(point: Double(k))
        let w = max(c0 - lmin, hmax - c0).nextUp
        let bound = (f / kk).lo - Outward.mulUp((g.scaled(2) / kk).magnitude, w)
        return max(0, bound.isNaN ? 0 : bound)
    }
}
