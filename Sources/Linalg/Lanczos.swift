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
/// through `dgemv`. Iteration stops when the relative change δ_k = |θ_k − θ_{k−1}|/θ_k ≤ tolerance
/// *and* the change still to come, extrapolated geometrically (Aitken) as δ_k·r/(1 − r) with
/// r = δ_k/δ_{k−1}, is ≤ tolerance too — a bare small change is not enough when the top of the
/// spectrum is a near-continuum (stride-1 convolutions: measured δ_k < 1e-6 with 1e-4 error
/// left) — *and* the relative residual of the top Ritz triplet is ≤ ``residualTolerance``; or at
/// `maxIterations`, when the Krylov space is exhausted (k = min(m, n)) or on breakdown (β or α = 0:
/// an invariant subspace, θ then exact). For a limited memory budget the basis is restarted from the current Ritz vector
/// after `maxBasis` steps (explicit restart; convergence slows but stays monotone).
///
/// One iteration = one A- and one Aᵀ-product. Convergence is governed by the relative gap of
/// σ₁² in the spectrum of AᵀA like Lanczos on AᵀA (Kaniel–Paige–Saad bound), i.e. the square
/// root of what power iteration needs, which is what makes clustered tops (random-like weights) cheap.
struct GolubKahanLanczos {
    /// A is m × n.
    var m: Int, n: Int
    var tolerance: Double
    /// Bound on the relative residual β_k·|x_k|/θ of the top Ritz triplet (see `run`):
    /// 100·tolerance clamped to [1e-5, 1e-2], i.e. 1e-4 by default. The floor stays above the
    /// noise that float32 products leave in the residual.
    var residualTolerance: Double { RitzStopping.residualTolerance(tolerance) }
    var maxIterations: Int
    /// Maximum number of stored Lanczos vectors per side before a restart (≥ 2).
    var maxBasis: Int
    var seed: UInt64
    /// Also return the right Ritz vector (one extra small SVD at the end).
    var wantVector = false
    /// The start vector (n entries, any nonzero norm); nil: a seeded Gaussian one.
    var start: [Double]? = nil
    /// Stop as soon as this holds for the current Ritz value θ (checked after every iteration;
    /// `achievedTolerance` is then the last relative change).
    var stop: ((Double) -> Bool)? = nil

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
        // Owned float64 storage, freed on every exit: V (basis × n) and U (basis × m), one Lanczos
        // vector per row; p (m) and q (n) work vectors; h (basis) Gram–Schmidt coefficients.
        let V = Storage(basis * n), U = Storage(basis * m), p = Storage(m), q = Storage(n), h = Storage(basis)
        var random = SeededGaussian(seed: seed)
        var vector = random.unitVector(n)
        if let s = start, s.count == n, norm(s) > 0, norm(s).isFinite {
            vector = s
            normalize(&vector)
        }

        var iterations = 0
        var theta = 0.0, change = Double.infinity, previousChange = Double.infinity
        var restarted = false
        cycle: while true {
            var alphas = [Double](), betas = [Double]()
            for i in 0..<n { V[i] = vector[i] }
            // u₁ = A·v₁ / α₁
            applyA(V.base, p.base)
            var alpha = p.norm(m)
            if !(alpha > 0) {  // A·v = 0 (or NaN): for a random start this means A = 0
                return Result(sigma: alpha.isNaN ? .nan : theta, iterations: max(iterations, 1), achievedTolerance: 0, vector: vector)
            }
            for i in 0..<m { U[i] = p[i] / alpha }
            alphas.append(alpha)
            var k = 1
            while true {
                iterations += 1
                let svd = try LAPACK.bidiagonalSVD(d: alphas, e: betas, rightVector: false, leftVector: true)
                let next = svd.values.first ?? 0
                // Right after a restart θ₁ = ‖A·v‖ reproduces the previous Ritz value, so the first
                // step of a restarted cycle is not a convergence test.
                if !(restarted && k == 1) {
                    previousChange = change
                    change = theta > 0 ? abs(next - theta) / next : .infinity
                }
                theta = max(theta, next)
                if k == krylovLimit || iterations >= maxIterations {
                    // k = min(m, n): V spans ℝⁿ or U spans ℝᵐ, θ = σ_max exactly.
                    if k == krylovLimit { change = 0 }
                    if wantVector { vector = try ritzVector(V, alphas, betas, k) }
                    return Result(sigma: theta, iterations: iterations, achievedTolerance: change, vector: vector)
                }
                // q = Aᵀ·u_k − α_k·v_k, orthogonalized against V.
                applyAT(U.base + (k - 1) * m, q.base)
                for i in 0..<n { q[i] -= alpha * V[(k - 1) * n + i] }
                reorthogonalize(q, against: V, count: k, length: n, scratch: h)
                let beta = q.norm(n)
                // Residual of the Ritz triplet: ‖Aᵀ·(U_k·x) − θ·V_k·y‖ = β_k·|x_k| (x, y top singular
                // vectors of B_k), and A·V_k·y = θ·U_k·x exactly in the recurrence.
                let residual = beta * abs(svd.left.last ?? 0) / max(theta, .leastNormalMagnitude)
                let invariant = !(beta > 1e-14 * theta)  // θ is then a singular value of A, exactly
                if invariant || stop?(theta) == true || RitzStopping.converged(change: change, previousChange: previousChange, residual: residual, tolerance: tolerance) {
                    if wantVector { vector = try ritzVector(V, alphas, betas, k) }
                    return Result(sigma: theta, iterations: iterations, achievedTolerance: invariant ? 0 : change, vector: vector)
                }
                if k == basis {  // restart from the Ritz vector
                    vector = try ritzVector(V, alphas, betas, k)
                    restarted = true
                    continue cycle
                }
                let vNext = V.base + k * n
                for i in 0..<n { vNext[i] = q[i] / beta }
                betas.append(beta)
                // p = A·v_{k+1} − β_k·u_k, orthogonalized against U.
                applyA(vNext, p.base)
                for i in 0..<m { p[i] -= beta * U[(k - 1) * m + i] }
                reorthogonalize(p, against: U, count: k, length: m, scratch: h)
                alpha = p.norm(m)
                if !(alpha > 1e-14 * theta) {
                    // A·v_{k+1} = β_k·u_k: A·V_{k+1} = U_k·[B_k, β_k·e_k] exactly, so the singular values of
                    // that k × (k+1) matrix — those of the square bidiagonal with diagonal (α₁…α_k, 0) and
                    // superdiagonal (β₁…β_k) — are singular values of A, the largest one the top on
                    // span(V_{k+1}). (Dropping β_k, as this branch once did, returns σ_max(B_k): still a
                    // lower bound but short; a random start never gets here, a structured one can.)
                    alphas.append(0)
                    let final = try LAPACK.bidiagonalSVD(d: alphas, e: betas, rightVector: false).values.first ?? theta
                    theta = max(theta, final)
                    if wantVector { vector = try ritzVector(V, alphas, betas, k + 1) }
                    return Result(sigma: theta, iterations: iterations, achievedTolerance: 0, vector: vector)
                }
                let uNext = U.base + k * m
                for i in 0..<m { uNext[i] = p[i] / alpha }
                alphas.append(alpha)
                k += 1
            }
        }
    }

    /// v = V_k·y with y the top right singular vector of B_k, normalized.
    private func ritzVector(_ V: Storage, _ alphas: [Double], _ betas: [Double], _ k: Int) throws(LinalgError) -> [Double] {
        let y = Storage(k), v = Storage(n)
        let right = try LAPACK.bidiagonalSVD(d: alphas, e: Array(betas.prefix(k - 1)), rightVector: true).right
        for i in 0..<min(k, right.count) { y[i] = right[i] }
        BLAS.dgemv(trans: true, m: k, n: n, alpha: 1, a: V.base, lda: n, x: y.base, beta: 0, y: v.base)
        var out = (0..<n).map { v[$0] }
        normalize(&out)
        return out
    }

    /// x ← (I − QQᵀ)²·x for the `count` orthonormal rows of Q (CGS2).
    private func reorthogonalize(_ x: Storage, against q: Storage, count: Int, length: Int, scratch h: Storage) {
        for _ in 0..<2 {
            BLAS.dgemv(trans: false, m: count, n: length, alpha: 1, a: q.base, lda: length, x: x.base, beta: 0, y: h.base)
            BLAS.dgemv(trans: true, m: count, n: length, alpha: -1, a: q.base, lda: length, x: h.base, beta: 1, y: x.base)
        }
    }
}

/// An owned float64 buffer (freed in `deinit`) for the Lanczos vectors. Left uninitialized
/// (Double is trivial; every entry is written before it is read), so the virtual reservation
/// of a large basis costs nothing until used.
final class Storage {
    let base: UnsafeMutablePointer<Double>
    init(_ count: Int) { base = .allocate(capacity: max(count, 1)) }
    deinit { base.deallocate() }
    subscript(i: Int) -> Double {
        get { base[i] }
        set { base[i] = newValue }
    }
    /// ‖first `count` entries‖₂ (scaled, see ``Frobenius/norm(_:)-(UnsafeBufferPointer<Double>)``).
    func norm(_ count: Int) -> Double { Frobenius.norm(UnsafeBufferPointer(start: base, count: count)) }
}

func norm(_ x: [Double]) -> Double { x.withUnsafeBufferPointer { Frobenius.norm($0) } }
func normalize(_ x: inout [Double]) {
    let r = norm(x)
    if r > 0 { for i in x.indices { x[i] /= r } }
}
