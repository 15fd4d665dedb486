// Symmetric Lanczos on the Gram operator AᵀA, one fused pass over A per iteration.

/// The largest singular value σ₁ = √λ_max(AᵀA) of a linear map A: ℝⁿ → ℝᵐ given only by the Gram
/// product v ↦ AᵀA·v, by the symmetric Lanczos process (Lanczos 1950; Golub & Van Loan, *Matrix
/// Computations* 4th ed., Alg. 10.1.1) with full reorthogonalization:
///
///     v₁ = random unit,  w_k = AᵀA·v_k − β_{k−1}·v_{k−1},  α_k = v_kᵀ·w_k,
///     w_k ← w_k − α_k·v_k,  w_k ← (I − V_k·V_kᵀ)·w_k (twice if needed),  β_k = ‖w_k‖,  v_{k+1} = w_k/β_k
///
/// so that AᵀA·V_k = V_k·T_k + β_k·v_{k+1}·e_kᵀ with T_k tridiagonal (α on the diagonal, β beside
/// it). The estimate θ_k = √λ_max(T_k) (LAPACK `dstevr`, top eigenpair only) is a Ritz value: it
/// increases monotonically to σ₁ and never exceeds it (exact arithmetic). This is the Krylov space
/// K_k(AᵀA, v₁) that Golub–Kahan–Lanczos builds with k A- and k Aᵀ-products; here each iteration is
/// *one* call of `applyGram`, which the dense caller fuses into one pass over A (row panels of A
/// stay in cache between u = A_panel·v and w += A_panelᵀ·u), halving the memory traffic that bounds
/// large weights. Block Krylov variants (b vectors per pass) need fewer passes on clustered tops
/// (measured ≈ 35 vs ≈ 55 for b = 8 on 4096 × 25088 Gaussian) but b-fold the flops of each pass;
/// with OpenBLAS's skinny `sgemm` (≈ 35 GFLOP/s here) that costs more than it saves for b ≥ 3,
/// but b = 2 keeps the pass memory-bound: see `BlockGramLanczos`, which the dense path uses for
/// blocks of ≥ 2²⁴ elements.
///
/// Vectors and T_k are float64 and reorthogonalization is classical Gram–Schmidt through `dgemv`
/// with a second pass when the first one removed much (DGKS criterion; with CGS2 this is the
/// "twice is enough" scheme of Giraud et al. 2005); only the Gram product may be lower precision.
/// Stopping, in terms of σ (as for `GolubKahanLanczos`): relative change δ_k = |θ_k − θ_{k−1}|/θ_k ≤
/// tolerance, its Aitken extrapolation δ_k·r/(1 − r), r = δ_k/δ_{k−1}, ≤ tolerance, and the relative
/// Ritz residual ‖AᵀA·y − θ²·y‖/θ² = β_k·|s_k|/θ² ≤ ``residualTolerance`` (y = V_k·s, s the top
/// eigenvector of T_k). The last equals the singular-triplet residual ‖A·v − θ·u‖/θ of the GKL
/// engine for u = y, v = Aᵀy/θ. Also stops at `maxIterations`, when the Krylov space is exhausted
/// (k = `krylovLimit`, θ then exact), or on breakdown (β_k ≤ 1e-14·θ²: invariant subspace). The basis
/// is restarted from the Ritz vector after `maxBasis` vectors (explicit restart, still monotone).
///
/// One iteration = one Gram product = (for dense A) one pass over A.
struct GramLanczos {
    /// Length of the vectors (columns of A).
    var n: Int
    /// A dimension the Krylov space cannot exceed; reaching it makes θ exact. For AᵀA (rank ≤ m)
    /// and a start vector with a component in null(A): min(n, m + 1) — *not* min(m, n): K_k is
    /// span{v₁} plus k − 1 dimensions of range(Aᵀ), so for m < n only k = m + 1 is invariant
    /// (the 2 × 3 and 6 × 700 test cases stop 34 % and 4e-5 low at k = m).
    var krylovLimit: Int
    var tolerance: Double
    /// 100·tolerance clamped to [1e-5, 1e-2] (1e-4 by default), as in `GolubKahanLanczos`.
    var residualTolerance: Double { RitzStopping.residualTolerance(tolerance) }
    var maxIterations: Int
    /// Maximum number of stored Lanczos vectors before a restart (≥ 2).
    var maxBasis: Int
    var seed: UInt64

    struct Result {
        var sigma: Double
        var iterations: Int
        var achievedTolerance: Double
    }

    /// `applyGram(v, out)`: out (n) = AᵀA·v (n).
    func run(applyGram: (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void) throws(LinalgError) -> Result {
        guard n > 0, krylovLimit > 0 else { return Result(sigma: 0, iterations: 0, achievedTolerance: 0) }
        let basis = max(2, min(maxBasis, krylovLimit))
        let V = Storage(basis * n), w = Storage(n), h = Storage(basis)
        var random = SeededGaussian(seed: seed)
        var vector = random.unitVector(n)

        var iterations = 0
        var theta = 0.0, change = Double.infinity, previousChange = Double.infinity
        var restarted = false
        cycle: while true {
            var alphas = [Double](), betas = [Double]()
            for i in 0..<n { V[i] = vector[i] }
            var k = 1
            while true {
                iterations += 1
                let vk = V.base + (k - 1) * n
                applyGram(vk, w.base)
                // The three-term recurrence first (w ← w − β_{k−1}·v_{k−1} − α_k·v_k) ...
                if k > 1, let beta = betas.last {
                    let previous = V.base + (k - 2) * n
                    for i in 0..<n { w[i] -= beta * previous[i] }
                }
                var alpha = 0.0
                for i in 0..<n { alpha += vk[i] * w[i] }
                for i in 0..<n { w[i] -= alpha * vk[i] }
                // ... then classical Gram–Schmidt against v₁…v_k, repeated when it removed more than
                // a third of the norm (Daniel–Gragg–Kaufman–Stewart 1976, "twice is enough"); the
                // v_k coefficients correct α_k. Usually one pass: what is left after the recurrence
                // is rounding, and the float64 basis traffic (k·n doubles per pass) is then halved.
                var norm = w.norm(n)
                for _ in 0..<2 {
                    BLAS.dgemv(trans: false, m: k, n: n, alpha: 1, a: V.base, lda: n, x: w.base, beta: 0, y: h.base)
                    BLAS.dgemv(trans: true, m: k, n: n, alpha: -1, a: V.base, lda: n, x: h.base, beta: 1, y: w.base)
                    alpha += h[k - 1]
                    let before = norm
                    norm = w.norm(n)
                    if !(norm < 0.7 * before) { break }
                }
                alphas.append(alpha)
                let beta = norm
                guard alphas[k - 1].isFinite, beta.isFinite else {
                    return Result(sigma: .nan, iterations: iterations, achievedTolerance: .infinity)
                }
                let top = try LAPACK.tridiagonalTop(d: alphas, e: betas)
                let lambda = max(top.value, 0)
                let next = lambda.squareRoot()
                // Right after a restart θ₁ reproduces the previous Ritz value: not a convergence test.
                if !(restarted && k == 1) {
                    previousChange = change
                    change = next > 0 ? abs(next - theta) / next : .infinity
                }
                theta = max(theta, next)
                if k == krylovLimit || iterations >= maxIterations {
                    return Result(sigma: theta, iterations: iterations, achievedTolerance: k == krylovLimit ? 0 : change)
                }
                let residual = beta * abs(top.vector.last ?? 0) / max(lambda, .leastNormalMagnitude)
                let invariant = !(beta > 1e-14 * lambda)  // θ² is then an eigenvalue of AᵀA, exactly
                if invariant || RitzStopping.converged(change: change, previousChange: previousChange, residual: residual, tolerance: tolerance) {
                    return Result(sigma: theta, iterations: iterations, achievedTolerance: invariant ? 0 : change)
                }
                if k == basis {  // restart from the Ritz vector V_k·s
                    let s = Storage(k), y = Storage(n)
                    for i in 0..<k { s[i] = top.vector[i] }
                    BLAS.dgemv(trans: true, m: k, n: n, alpha: 1, a: V.base, lda: n, x: s.base, beta: 0, y: y.base)
                    vector = (0..<n).map { y[$0] }
                    normalize(&vector)
                    restarted = true
                    continue cycle
                }
                let vNext = V.base + k * n
                for i in 0..<n { vNext[i] = w[i] / beta }
                betas.append(beta)
                k += 1
            }
        }
    }
}
