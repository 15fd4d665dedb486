// The top eigenpair of an assembled Hermitian complex matrix, by Lanczos (an estimate, never a bound).

/// The largest eigenvalue of a Hermitian p × p complex matrix H (row-major, interleaved re/im,
/// upper triangle read by `zhemv`) and its unit eigenvector, by the symmetric Lanczos recurrence
/// with full reorthogonalization (classical Gram–Schmidt twice against every stored vector):
///
///     w = H·v_j − α_j·v_j − β_{j−1}·v_{j−1},  α_j = Re(v_jᴴ·H·v_j),  β_j = ‖w‖,  v_{j+1} = w/β_j,
///
/// the top Ritz pair (θ, V·y) of the real tridiagonal T_k (LAPACK `dstevr`), stopped when the
/// residual ‖H·x − θ·x‖ = β_k·|y_k| is ≤ `tolerance`·θ, on breakdown (an invariant subspace),
/// or after `steps` steps. θ ≤ λ_max(H) in exact arithmetic: it *chooses* the certification
/// level of ``SymbolCertificate`` and the frequency of ``PacketLowerBound``; neither result
/// depends on θ being accurate (the certificate is Cholesky's, the packet bound is recomputed as
/// an explicit Rayleigh quotient).
struct HermitianLanczos {
    struct Result {
        var value: Double
        /// The unit Ritz vector (2p doubles).
        var vector: [Double]
        var residual: Double
        var steps: Int
    }

    /// `multiply(x, y)`: y = H·x (2p doubles each). `start` (2p doubles, any nonzero norm) or a
    /// seeded Gaussian start.
    static func top(order p: Int, steps maxSteps: Int, tolerance: Double = 1e-9, start: [Double]?, seed: UInt64,
                    multiply: (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void) throws(LinalgError) -> Result {
        guard p > 0 else { return Result(value: 0, vector: [], residual: 0, steps: 0) }
        let n = 2 * p
        let k = max(1, min(maxSteps, p))
        let basis = Storage(k * n), w = Storage(n)
        var v0 = start ?? []
        if v0.count != n || !(norm(v0) > 0) || !norm(v0).isFinite {
            var random = SeededGaussian(seed: seed)
            v0 = random.normals(n)
        }
        normalize(&v0)
        for i in 0..<n { basis[i] = v0[i] }
        var alphas: [Double] = [], betas: [Double] = []
        var best = Result(value: 0, vector: v0, residual: .infinity, steps: 0)
        var j = 0
        while true {
            let vj = basis.base + j * n
            multiply(vj, w.base)
            let alpha = dotRe(vj, w.base, n)
            alphas.append(alpha)
            // w −= α v_j + β v_{j−1}, then CGS2 against v_0 … v_j.
            for i in 0..<n { w[i] -= alpha * vj[i] }
            if j > 0, let b = betas.last { let vp = basis.base + (j - 1) * n; for i in 0..<n { w[i] -= b * vp[i] } }
            for _ in 0..<2 {
                for l in 0...j {
                    let vl = basis.base + l * n
                    let (cr, ci) = dotC(vl, w.base, n)   // c = v_lᴴ w
                    var i = 0
                    while i < n {
                        let vr = vl[i], vi = vl[i + 1]
                        w[i] -= cr * vr - ci * vi
                        w[i + 1] -= cr * vi + ci * vr
                        i += 2
                    }
                }
            }
            let beta = w.norm(n)
            let top = try LAPACK.tridiagonalTop(d: alphas, e: betas)
            let residual = beta * abs(top.vector.last ?? 0)
            j += 1
            let done = j == k || !(beta > 1e-13 * max(abs(top.value), .leastNormalMagnitude))
                || residual <= tolerance * abs(top.value)
            if done {
                var x = [Double](repeating: 0, count: n)
                for l in 0..<j {
                    let c = top.vector[l], vl = basis.base + l * n
                    for i in 0..<n { x[i] += c * vl[i] }
                }
                normalize(&x)
                best = Result(value: top.value, vector: x, residual: residual, steps: j)
                return best
            }
            betas.append(beta)
            let next = basis.base + j * n
            for i in 0..<n { next[i] = w[i] / beta }
        }
    }

    /// Re(aᴴb) for interleaved complex vectors of n doubles.
    static func dotRe(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0
        var i = 0
        while i < n { s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; i += 2 }
        return s0 + s1
    }

    /// aᴴb (re, im) for interleaved complex vectors of n doubles.
    static func dotC(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> (Double, Double) {
        var re = 0.0, im = 0.0
        var i = 0
        while i < n {
            re += a[i] * b[i] + a[i + 1] * b[i + 1]
            im += a[i] * b[i + 1] - a[i + 1] * b[i]
            i += 2
        }
        return (re, im)
    }
}
