// Block Lanczos on the Gram operator AᵀA: b vectors per fused pass over A.

/// σ₁ = √λ_max(AᵀA) by block Lanczos with block size b (Golub & Underwood 1977; Golub & Van Loan,
/// *Matrix Computations* 4th ed., §10.3.6) and full reorthogonalization, given the Gram product of a
/// block of b vectors at once:
///
///     X₁ = orthonormalized b random vectors,  W = AᵀA·X_j − X_{j−1}·B_{j−1}ᵀ,  A_j = X_jᵀ·W,
///     W ← W − X_j·A_j,  W ← (I − V·Vᵀ)·W (twice if needed),  W = X_{j+1}·B_j (QR, B_j upper triangular)
///
/// so that AᵀA·V_k = V_k·T_k + X_{k+1}·B_k·E_kᵀ with T_k block tridiagonal (A_j on the diagonal,
/// B_j below it). Rayleigh–Ritz: θ_k² = λ_max(T_k) (LAPACK `dsyevr` on the dense k·b × k·b T_k,
/// top eigenpair only), monotone and ≤ σ₁ like the single-vector Ritz value.
///
/// Why: the single-vector iteration converges at a rate set by the gap σ₁² − σ₂², the block one
/// by σ₁² − σ_{b+1}². On VGG-19's fc6 (4096 × 25088, (σ₁ − σ₂)/σ₁ = 3.4e-4) single-vector Lanczos
/// from the seed-42 start first settles on σ₂ (relative change 1.8e-7, residual 2.8e-4) and needs
/// 104 passes; b = 2 needs ≈ 60–70 (numpy prototype over 5 seeds: b = 1: 85–105, b = 2: 56–69,
/// b = 3: 48–56). The dense caller applies each row panel of A (in cache) to the b vectors with one
/// `sgemm` (n = b), which for b = 2 costs about what one `sgemv` pair does (panel kernels alone,
/// 4096 × 25088: 25 vs 24 ms per pass): the pass stays memory-bound. With the float64 work
/// (reorthogonalization of two vectors against a basis growing twice as fast) a whole pass measured
/// 1.15–1.25× the single-vector one, so the net gain on a release build, 1 BLAS thread, is ≈ 24 %
/// (fc6: 104 → 68 passes, 2.89 → 2.20 s; Gaussian 4096²: 70 → 43, 0.37 → 0.28 s) and ≈ 5 % on a
/// Gaussian 4096 × 25088 without a clustered pair (72 → 57). b = 3 costs ≈ 1.5× per pass and saves
/// less than that; below 2²⁴ elements (A in L3) b = 2 loses (512 × 4608: 36 → 34 passes, 2× per pass).
/// The block also guards against a start vector nearly orthogonal to v₁ with σ₂ close to σ₁:
/// single-vector Lanczos then converges to σ₂ with a genuinely small residual (tested).
///
/// Stopping exactly as `GramLanczos` (relative change, Aitken-extrapolated remaining change, and
/// the relative Ritz residual ‖AᵀA·y − θ²·y‖/θ² = ‖B_k·s_k‖/θ², s_k the last b entries of the top
/// eigenvector of T_k), or at `maxIterations` passes, or when the block Krylov space is invariant
/// (B_k ≈ 0) or fills `krylovLimit` dimensions (θ exact). A column of W that vanishes while others
/// do not (a partial invariant subspace) is replaced by a fresh random direction orthogonal to V
/// with a zero coupling entry, which keeps T_k = V_kᵀ·AᵀA·V_k. After `maxBasis` vectors the basis is
/// restarted from the b top Ritz vectors.
///
/// One iteration = one block Gram product = (for dense A) one pass over A.
struct BlockGramLanczos {
    /// Length of the vectors (columns of A).
    var n: Int
    /// Vectors per block (b ≥ 1; 2b ≤ n).
    var blockSize: Int
    /// The dimension the block Krylov space cannot exceed, for AᵀA of rank ≤ m: min(n, m + b).
    var krylovLimit: Int
    var tolerance: Double
    /// 100·tolerance clamped to [1e-5, 1e-2] (1e-4 by default), as in `GramLanczos`.
    var residualTolerance: Double { RitzStopping.residualTolerance(tolerance) }
    /// Maximum number of passes (block Gram products).
    var maxIterations: Int
    /// Maximum number of stored vectors before a restart (≥ 2b).
    var maxBasis: Int
    var seed: UInt64

    typealias Result = GramLanczos.Result

    /// `applyGram(X, out)`: out = AᵀA·X for the b row vectors of X (b × n, row-major), out b × n.
    func run(applyGram: (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void) throws(LinalgError) -> Result {
        let b = blockSize
        guard n > 0, krylovLimit > 0, b >= 1, 2 * b <= n else { return Result(sigma: 0, iterations: 0, achievedTolerance: 0) }
        let blocks = max(2, min(maxBasis, krylovLimit) / b)
        let V = Storage(blocks * b * n), W = Storage(b * n), W0 = Storage(b * n), H = Storage(blocks * b * b)
        var random = SeededGaussian(seed: seed)
        // The first start vector is the one `GramLanczos` uses (same seed, same stream).
        var start = random.normals(b * n)

        var iterations = 0
        var theta = 0.0, change = Double.infinity, previousChange = Double.infinity
        var restarted = false
        cycle: while true {
            for i in 0..<(b * n) { W[i] = start[i] }
            var diagonal = [[Double]](), coupling = [[Double]]()  // A_j, B_j (b × b row-major)
            _ = orthonormalize(W, against: V, count: 0, scale: 0, random: &random)
            for i in 0..<(b * n) { V[i] = W[i] }
            var k = 1
            while true {
                iterations += 1
                let xk = V.base + (k - 1) * b * n
                applyGram(xk, W.base)
                // W ← W − X_{k−1}·B_{k−1}ᵀ: column i loses Σ_l B_{k−1}[i, l]·x_{k−1, l}.
                if k > 1, let bPrevious = coupling.last {
                    let previous = V.base + (k - 2) * b * n
                    for i in 0..<b { for l in 0..<b where bPrevious[i * b + l] != 0 {
                        let c = bPrevious[i * b + l], w = W.base + i * n, x = previous + l * n
                        for t in 0..<n { w[t] -= c * x[t] }
                    } }
                }
                // A_k = X_kᵀ·W, W ← W − X_k·A_k, then CGS against all of V (a second pass when any
                // column lost more than 30 % of its norm, DGKS); the X_k coefficients correct A_k.
                var a = [Double](repeating: 0, count: b * b)
                project(W, onto: xk, rows: b, into: H, copy: W0)
                for i in 0..<(b * b) { a[i] = H[i] }   // H[r·b + i] = x_r·w_i
                var norms = (0..<b).map { rowNorm(W.base + $0 * n) }
                for _ in 0..<2 {
                    project(W, onto: V.base, rows: k * b, into: H, copy: W0)
                    for r in 0..<b { for i in 0..<b { a[r * b + i] += H[((k - 1) * b + r) * b + i] } }
                    let before = norms
                    norms = (0..<b).map { rowNorm(W.base + $0 * n) }
                    if !zip(norms, before).contains(where: { $0 < 0.7 * $1 }) { break }
                }
                // Symmetrize (A_k = X_kᵀ·AᵀA·X_k is symmetric up to rounding).
                for r in 0..<b { for i in (r + 1)..<b { let m = (a[r * b + i] + a[i * b + r]) / 2; a[r * b + i] = m; a[i * b + r] = m } }
                guard a.allSatisfy({ $0.isFinite }), norms.allSatisfy({ $0.isFinite }) else {
                    return Result(sigma: .nan, iterations: iterations, achievedTolerance: .infinity)
                }
                diagonal.append(a)
                // T_k (k·b × k·b, dense) and its top eigenpair.
                let p = k * b
                var t = [Double](repeating: 0, count: p * p)
                for j in 0..<k {
                    for r in 0..<b { for c in 0..<b { t[(j * b + r) * p + j * b + c] = diagonal[j][r * b + c] } }
                    if j + 1 < k {
                        for r in 0..<b { for c in 0..<b {
                            let e = coupling[j][r * b + c]  // X_{j+1}-row r, X_j-column c
                            t[((j + 1) * b + r) * p + j * b + c] = e
                            t[(j * b + c) * p + (j + 1) * b + r] = e
                        } }
                    }
                }
                let top = try LAPACK.symmetricTop(&t, order: p)
                let lambda = max(top.values[0], 0)
                let next = lambda.squareRoot()
                if !(restarted && k == 1) {
                    previousChange = change
                    change = next > 0 ? abs(next - theta) / next : .infinity
                }
                theta = max(theta, next)
                if p >= krylovLimit || iterations >= maxIterations {
                    return Result(sigma: theta, iterations: iterations, achievedTolerance: p >= krylovLimit ? 0 : change)
                }
                // W = X_{k+1}·B_k; residual ‖B_k·s_k‖ with s_k the last block of the top eigenvector.
                let floor = 1e-14 * lambda
                let bk = orthonormalize(W, against: V, count: p, scale: floor, random: &random)
                var residual2 = 0.0
                for r in 0..<b {
                    var x = 0.0
                    for c in r..<b { x += bk.matrix[r * b + c] * top.vectors[(k - 1) * b + c] }
                    residual2 += x * x
                }
                let residual = residual2.squareRoot() / max(lambda, .leastNormalMagnitude)
                let invariant = bk.deficient == b  // AᵀA·V_k ⊂ span V_k: θ² is an eigenvalue, exactly
                if invariant || RitzStopping.converged(change: change, previousChange: previousChange, residual: residual, tolerance: tolerance) {
                    return Result(sigma: theta, iterations: iterations, achievedTolerance: invariant ? 0 : change)
                }
                if k == blocks || p + b > krylovLimit {  // restart from the b top Ritz vectors V_k·S
                    var t2 = [Double](repeating: 0, count: p * p)
                    for j in 0..<k {
                        for r in 0..<b { for c in 0..<b { t2[(j * b + r) * p + j * b + c] = diagonal[j][r * b + c] } }
                        if j + 1 < k {
                            for r in 0..<b { for c in 0..<b {
                                let e = coupling[j][r * b + c]
                                t2[((j + 1) * b + r) * p + j * b + c] = e
                                t2[(j * b + c) * p + (j + 1) * b + r] = e
                            } }
                        }
                    }
                    let ritz = try LAPACK.symmetricTop(&t2, order: p, count: b)
                    let s = Storage(p * b)
                    for c in 0..<b { for i in 0..<p { s[c * p + i] = ritz.vectors[c * p + i] } }
                    // Rows of Y = Sᵀ·V_k (b × n).
                    BLAS.dgemm(transA: false, transB: false, m: b, n: n, k: p, alpha: 1, a: s.base, lda: p,
                               b: V.base, ldb: n, beta: 0, c: W.base, ldc: n)
                    start = (0..<(b * n)).map { W[$0] }
                    restarted = true
                    continue cycle
                }
                let vNext = V.base + p * n
                for i in 0..<(b * n) { vNext[i] = W[i] }
                coupling.append(bk.matrix)
                k += 1
            }
        }
    }

    /// ‖x‖₂ of one row (n entries) for the reorthogonalization test only: √(x·x) by `ddot`
    /// (vectorized) when the sum of squares is safely finite and normal, else the scaled
    /// ``Frobenius/norm(_:)-(UnsafeBufferPointer<Double>)`` (which also maps NaN → NaN, ∞ → ∞).
    private func rowNorm(_ x: UnsafePointer<Double>) -> Double {
        let s = BLAS.ddot(n: n, x: x, y: x)
        return s.isFinite && s >= 0x1p-900 ? s.squareRoot() : Frobenius.norm(UnsafeBufferPointer(start: x, count: n))
    }

    /// H (rows × b, row-major: H[r·b + i] = q_r·w_i) = Q·Wᵀ and W ← W − Hᵀ·Q for the `rows`
    /// orthonormal rows of Q: one classical Gram–Schmidt pass of the b rows of W. Row by row of Q
    /// (`ddot`, then `daxpy`), and no packed copy as `dgemm` with n = b makes. The dots are taken
    /// against a copy of the incoming W (`copy`, b × n scratch), so each row q_r is used for its
    /// `ddot`s and its `daxpy`s while it is in cache: Q streams from memory once instead of twice,
    /// with bit-identical results (same dots, same update order) to the two-sweep CGS. Engine
    /// overhead per pass, averaged over 68 passes at n = 25088 (basis up to 136 vectors): `dgemm`
    /// 4.6 ms, b `dgemv` pairs 3.5 ms, two sweeps 3.0 ms. With this and `rowNorm`, fc6 end to end
    /// minus the Gram products (release, 1 BLAS thread, median of 5): 0.248 → 0.196 s.
    private func project(_ w: Storage, onto q: UnsafePointer<Double>, rows: Int, into h: Storage, copy: Storage) {
        let b = blockSize
        let w0 = copy.base
        w0.update(from: w.base, count: b * n)
        for r in 0..<rows {
            let qr = q + r * n
            for i in 0..<b { h[r * b + i] = BLAS.ddot(n: n, x: qr, y: w0 + i * n) }
            for i in 0..<b { BLAS.daxpy(n: n, alpha: -h[r * b + i], x: qr, y: w.base + i * n) }
        }
    }

    /// In place: the b rows of W (already orthogonal to the first `count` rows of V) become
    /// orthonormal, W_old = Bᵀ·W_new in row form, i.e. W_old = X·B with B upper triangular (returned,
    /// row-major b × b). Modified Gram–Schmidt applied twice within the block. A row whose
    /// remaining norm is ≤ `scale` gets B[i, i] = 0 and is replaced by a random unit vector
    /// orthogonal to V and to the earlier rows (`deficient` counts them).
    private func orthonormalize(_ w: Storage, against v: Storage, count: Int, scale: Double,
                                random: inout SeededGaussian) -> (matrix: [Double], deficient: Int) {
        let b = blockSize
        var m = [Double](repeating: 0, count: b * b)
        var deficient = 0
        for i in 0..<b {
            let wi = w.base + i * n
            for _ in 0..<2 {
                for l in 0..<i {
                    let wl = w.base + l * n
                    var c = 0.0
                    for t in 0..<n { c += wl[t] * wi[t] }
                    for t in 0..<n { wi[t] -= c * wl[t] }
                    m[l * b + i] += c
                }
            }
            var norm = Frobenius.norm(UnsafeBufferPointer(start: wi, count: n))
            if !(norm > scale) {
                deficient += 1
                m[i * b + i] = 0
                // A fresh direction: random, orthogonal (twice) to V and to the earlier rows.
                for attempt in 0..<4 {
                    for t in 0..<n { wi[t] = random.normal() }
                    for _ in 0..<2 {
                        if count > 0 {
                            let h = Storage(count)
                            BLAS.dgemv(trans: false, m: count, n: n, alpha: 1, a: v.base, lda: n, x: wi, beta: 0, y: h.base)
                            BLAS.dgemv(trans: true, m: count, n: n, alpha: -1, a: v.base, lda: n, x: h.base, beta: 1, y: wi)
                        }
                        for l in 0..<i {
                            let wl = w.base + l * n
                            var c = 0.0
                            for t in 0..<n { c += wl[t] * wi[t] }
                            for t in 0..<n { wi[t] -= c * wl[t] }
                        }
                    }
                    norm = Frobenius.norm(UnsafeBufferPointer(start: wi, count: n))
                    if norm > 1e-8 || attempt == 3 { break }
                }
                if !(norm > 0) { norm = 1 }
            } else {
                m[i * b + i] = norm
            }
            for t in 0..<n { wi[t] /= norm }
        }
        return (m, deficient)
    }
}
