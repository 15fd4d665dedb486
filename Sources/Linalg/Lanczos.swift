// Golub–Kahan–Lanczos bidiagonalization with full reorthogonalization, matrix-free.

/// The largest singular value of a linear map A: ℝⁿ → ℝᵐ given only by products v ↦ A·v and
/// u ↦ Aᵀ·u, by Golub–Kahan–Lanczos bidiagonalization (Golub & Kahan 1965; Golub & Van Loan,
/// *Matrix Computations* 4th ed., Alg. 10.4.1) with full reorthogonalization:
///
///     β₀ = 0,  v₁ = random unit,  u₁ = A·v₁ / α₁
///     v_{j+1} = (Aᵀ·u_j − α_j·v_j) / β_j,   u_{j+1} = (A·v_{j+1} − β_j·u_j) / α_{j+1}
///
/// so that A·V_k = U_k·B_k with B_k upper bidiagonal (α on the diagonal, β above). The estimate
/// θ_k = σ_max(B_k) (LAPACK `dbdsqr`) is a Ritz value of AᵀA: it increases monotonically to σ_max(A)
/// and is never above it (in exact arithmetic). Each new vector is orthogonalized against all
/// previous ones by classical Gram–Schmidt applied twice ("CGS2", Giraud et al. 2005), in float64
/// through `dgemv`. Iteration stops when |θ_k − θ_{k−1}| ≤ tolerance·θ_k, at `maxIterations`, when
/// the Krylov space is exhausted (k = min(m, n)) or on breakdown (β or α = 0: an invariant subspace,
/// θ then exact). For a limited memory budget the basis is restarted from the current Ritz vector
/// after `maxBasis` steps (explicit restart; convergence slows but stays monotone).
///
/// One iteration = one A- and one Aᵀ-product. Convergence is governed by the relative gap of
/// σ₁² in the spectrum of AᵀA like Lanczos on AᵀA (Kaniel–Paige–Saad bound), i.e. the square
/// root of what power iteration needs, which is what makes clustered tops (random-like weights) cheap.
struct GolubKahanLanczos {
    /// A is m × n.
    var m: Int, n: Int
    var tolerance: Double
    var maxIterations: Int
    /// Maximum number of stored Lanczos vectors per side before a restart (≥ 2).
    var maxBasis: Int
    var seed: UInt64
    /// Also return the right Ritz vector (one extra small SVD at the end).
    var wantVector = false

    struct Result {
        var sigma: Double
        var iterations: Int
        var achievedTolerance: Double
        /// The unit right Ritz vector v (A·v ≈ σ·u) when requested.
        var vector: [Double]
    }

    /// `applyA(v, out)`: out (m) = A·v (n); `applyAT(u, out)`: out (n) = Aᵀ·u (m).
    func run(applyA: (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void,
             applyAT: (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void) throws(LinalgError) -> Result {
        guard m > 0, n > 0 else { return Result(sigma: 0, iterations: 0, achievedTolerance: 0, vector: []) }
        let krylovLimit = min(m, n)
        let basis = max(2, min(maxBasis, krylovLimit))
        var random = SeededGaussian(seed: seed)
        var start = random.normals(n)
        normalize(&start)

        var iterations = 0
        var theta = 0.0, change = Double.infinity
        var vector = start
        // V: k × n, U: k × m (row-major, one Lanczos vector per row).
        var V = [Double](), U = [Double]()
        V.reserveCapacity(basis * n); U.reserveCapacity(basis * m)
        var p = [Double](repeating: 0, count: m), q = [Double](repeating: 0, count: n)
        var h = [Double](repeating: 0, count: basis)

        var restarted = false
        cycle: while true {
            V.removeAll(keepingCapacity: true); U.removeAll(keepingCapacity: true)
            var alphas = [Double](), betas = [Double]()
            V.append(contentsOf: vector)
            // u₁ = A·v₁ / α₁
            vector.withUnsafeBufferPointer { v in p.withUnsafeMutableBufferPointer { applyA(v.baseAddress!, $0.baseAddress!) } }
            var alpha = norm(p)
            if !(alpha > 0) {  // A·v = 0 (or NaN): for a random start this means A = 0
                return Result(sigma: alpha.isNaN ? .nan : theta, iterations: max(iterations, 1), achievedTolerance: 0, vector: vector)
            }
            scale(&p, 1 / alpha); U.append(contentsOf: p); alphas.append(alpha)
            var k = 1
            while true {
                iterations += 1
                let svd = try LAPACK.bidiagonalSVD(d: alphas, e: betas, rightVector: false)
                let next = svd.values.first ?? 0
                // Right after a restart θ₁ = ‖A·v‖ reproduces the previous Ritz value, so the first
                // step of a restarted cycle is not a convergence test.
                if !(restarted && k == 1) {
                    change = theta > 0 ? abs(next - theta) / next : .infinity
                }
                theta = max(theta, next)
                if k == krylovLimit { change = 0 }  // V spans ℝⁿ or U spans ℝᵐ: θ = σ_max exactly
                if change <= tolerance || iterations >= maxIterations {
                    vector = wantVector ? try ritzVector(V, alphas, betas, k) : vector
                    return Result(sigma: theta, iterations: iterations, achievedTolerance: change, vector: vector)
                }
                // q = Aᵀ·u_k − α_k·v_k, orthogonalized against V.
                U.withUnsafeBufferPointer { ub in q.withUnsafeMutableBufferPointer { applyAT(ub.baseAddress! + (k - 1) * m, $0.baseAddress!) } }
                for i in 0..<n { q[i] -= alpha * V[(k - 1) * n + i] }
                reorthogonalize(&q, against: V, count: k, length: n, scratch: &h)
                let beta = norm(q)
                if !(beta > 1e-14 * theta) {  // invariant subspace: θ is a singular value of A, exactly
                    vector = wantVector ? try ritzVector(V, alphas, betas, k) : vector
                    return Result(sigma: theta, iterations: iterations, achievedTolerance: 0, vector: vector)
                }
                if k == basis {  // restart from the Ritz vector
                    vector = try ritzVector(V, alphas, betas, k)
                    restarted = true
                    continue cycle
                }
                scale(&q, 1 / beta); V.append(contentsOf: q); betas.append(beta)
                // p = A·v_{k+1} − β_k·u_k, orthogonalized against U.
                q.withUnsafeBufferPointer { v in p.withUnsafeMutableBufferPointer { applyA(v.baseAddress!, $0.baseAddress!) } }
                for i in 0..<m { p[i] -= beta * U[(k - 1) * m + i] }
                reorthogonalize(&p, against: U, count: k, length: m, scratch: &h)
                alpha = norm(p)
                if !(alpha > 1e-14 * theta) {  // A·v_{k+1} ∈ span(U): B_k plus β_k is final
                    betas.removeLast(); V.removeLast(n)
                    vector = wantVector ? try ritzVector(V, alphas, betas, k) : vector
                    return Result(sigma: theta, iterations: iterations, achievedTolerance: 0, vector: vector)
                }
                scale(&p, 1 / alpha); U.append(contentsOf: p); alphas.append(alpha)
                k += 1
            }
        }
    }

    /// v = V_k·y with y the top right singular vector of B_k, normalized.
    private func ritzVector(_ V: [Double], _ alphas: [Double], _ betas: [Double], _ k: Int) throws(LinalgError) -> [Double] {
        let y = try LAPACK.bidiagonalSVD(d: alphas, e: Array(betas.prefix(k - 1)), rightVector: true).right
        var v = [Double](repeating: 0, count: n)
        V.withUnsafeBufferPointer { vb in
            y.withUnsafeBufferPointer { yb in
                v.withUnsafeMutableBufferPointer { out in
                    BLAS.dgemv(trans: true, m: k, n: n, alpha: 1, a: vb.baseAddress!, lda: n,
                               x: yb.baseAddress!, beta: 0, y: out.baseAddress!)
                }
            }
        }
        normalize(&v)
        return v
    }

    /// x ← (I − QQᵀ)²·x for the `count` orthonormal rows of Q (CGS2).
    private func reorthogonalize(_ x: inout [Double], against q: [Double], count: Int, length: Int, scratch h: inout [Double]) {
        q.withUnsafeBufferPointer { qb in
            x.withUnsafeMutableBufferPointer { xb in
                h.withUnsafeMutableBufferPointer { hb in
                    for _ in 0..<2 {
                        BLAS.dgemv(trans: false, m: count, n: length, alpha: 1, a: qb.baseAddress!, lda: length,
                                   x: xb.baseAddress!, beta: 0, y: hb.baseAddress!)
                        BLAS.dgemv(trans: true, m: count, n: length, alpha: -1, a: qb.baseAddress!, lda: length,
                                   x: hb.baseAddress!, beta: 1, y: xb.baseAddress!)
                    }
                }
            }
        }
    }
}

func norm(_ x: [Double]) -> Double { x.withUnsafeBufferPointer { Frobenius.norm($0) } }
func scale(_ x: inout [Double], _ s: Double) { for i in x.indices { x[i] *= s } }
func normalize(_ x: inout [Double]) { let r = norm(x); if r > 0 { scale(&x, 1 / r) } }
