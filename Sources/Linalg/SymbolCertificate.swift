// Per-frequency certificates σ_max(K̂(ω)) ≤ b by Cholesky factorizations, over a CertificationGrid.
import Foundation

/// max over a ``CertificationGrid`` of σ_max(K̂(ω)), bounded from above without an eigensolver.
///
/// **Lemma (Cholesky certificate).** Let H̃ be a Hermitian p × p matrix of floating-point numbers on
/// which the Cholesky factorization runs to completion, R̂ᴴR̂ = H̃ + ΔH with |ΔH| ≤ c_p·|R̂ᴴ||R̂|
/// entrywise, c_p < 1/2. Then λ_min(H̃) ≥ −c_p/(1 − c_p)·tr H̃.
/// *Proof.* ‖ΔH‖₂ ≤ ‖|ΔH|‖₂ ≤ c_p‖|R̂|‖₂² ≤ c_p‖R̂‖²_F = c_p·tr(H̃ + ΔH) ≤ c_p(tr H̃ + c_p‖R̂‖²_F), so
/// ‖R̂‖²_F ≤ tr H̃/(1 − c_p) and ‖ΔH‖₂ ≤ c_p·tr H̃/(1 − c_p); H̃ = R̂ᴴR̂ − ΔH ⪰ −‖ΔH‖₂·I. ∎
/// (Rump, "Verification of positive definiteness", BIT 46 (2006), uses the same argument.)
/// *Assumption.* Higham (*Accuracy and Stability*, 2nd ed., Thm. 10.3) proves the componentwise
/// form with c_p = γ_{p+1} for real Cholesky in any order of the inner products; complex
/// arithmetic enlarges the constants by at most 2√2 (Higham §3.6), and OpenBLAS's blocked
/// `zpotrf` uses conventional (non-Strassen) level-3 kernels with reciprocal multiplications.
/// We take c_p = γ_{8(p+4)}, a further factor ≈ 3; at p = 512 the margin is 2e-10·μ.
///
/// **Certificate at one frequency.** The assembly writes H̃ = fl(μI − X̃) with X̃ the computed
/// G(ω) (``SymbolGram/assembleHermitian(a:b:scale:shift:into:ld:)``; off-diagonal entries are
/// exact negations, the diagonal rounds by ≤ u·|H̃_ii|). If `zpotrf` succeeds on H̃ then, with
/// E the assembly bound (``SymbolGram/assemblyError(weightError:blocks:)``, weights within
/// η = 128u), σ_max(K̂(ω))² = λ_max(G) ≤ λ_max(X̃) + E ≤ b² := μ + c_p/(1 − c_p)·tr H̃·(1 + γ_p)
/// + u·max_i|H̃_ii| + E. (A successful factorization has positive pivots, hence tr H̃ > 0.)
///
/// **Choice of μ.** Each chunk of points keeps a running level μ, seeded from Lanczos estimates
/// at a few points (``HermitianLanczos``): a point is first tried at the running level; if the
/// factorization fails, the top eigenvalue there is estimated (θ ≤ λ_max) and the point is
/// retried at θ·(1 + 1e-7) + 2·(Lanczos residual) (right whenever Lanczos found the top
/// eigenvalue), then at max(θ, μ)·(1 + η_c), η_c = 5e-4, then after more Lanczos steps, then with
/// geometric steps ×(1 + 16η_c), at most 40 tries (beyond that the certificate is abandoned and
/// the caller keeps √c·σ_matrix); the level rises to each success. So every point costs one
/// factorization, plus ≈ the number of records in a random order (ln F) Lanczos runs and extra
/// factorizations, and the bound exceeds the grid's largest σ_max by ≈ 1e-7 relative (by at most
/// η_c/2 where Lanczos stalls below the top).
/// Points are visited in a seeded random order, split into ≤ 4 contiguous chunks that idle
/// workers of ``SpectralOptions/crew`` may take; every chunk's result depends only on its points
/// and the seed level, so the bound is the same whoever runs which chunk. Within a chunk four
/// points are assembled per pass over the coefficients (memory-bound) and factored in turn; a
/// success certifies the level it was assembled at. (`zpotrf` reads the row-major upper triangle
/// as the column-major lower triangle of conj H̃: same eigenvalues, same lemma.)
enum SymbolCertificate {
    struct Outcome: Sendable {
        /// max over the grid of the certified b² (≥ max σ_max(K̂(ω))² on the grid).
        var squaredBound: Double
        /// The largest Lanczos estimate θ met (≤ max λ_max) and where: the packet search starts there.
        var bestEstimate: Double
        var bestPoint: [Int]
        var bestVector: [Double]
        var factorizations: Int
    }

    /// Relative step above a Lanczos estimate for the certification level.
    static let levelSlack = 5e-4
    static let maxChunks = 4
    static let seedPoints = 4
    static let lanczosSteps = 40

    static func choleskyConstant(_ p: Int) -> Double { SymbolGram.gamma(8 * Double(p + 4)) }

    /// The certified max over `grid` for one group's Gram, or nil when some point could not be
    /// certified (non-finite data or 40 failed levels).
    static func certify(_ gram: SymbolGram, grid: CertificationGrid, seed: UInt64, crew: PassCrew?) throws(LinalgError) -> Outcome? {
        let p = gram.order
        guard p > 0, !grid.points.isEmpty else { return nil }
        var order = Array(grid.points.indices)
        var state = seed ^ 0x5EED_CE27
        if order.count > 1 {
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                let j = Int(SplitMix64.next(&state) % UInt64(i + 1))
                order.swapAt(i, j)
            }
        }
        let weights = grid.points.map { weightsAt($0, counts: grid.counts, lags: gram.lags) }
        let e = gram.assemblyError(weightError: 128 * SymbolGram.unitRoundoff)
        let c = choleskyConstant(p), u = SymbolGram.unitRoundoff
        let margin = { (trace: Double, maxDiagonal: Double) -> Double in
            c / (1 - c) * trace * (1 + SymbolGram.gamma(Double(p))) + u * maxDiagonal + e
        }
        // Seed level: Lanczos at the first few points of the order.
        let work = Workspace(p)
        var seedLevel = 0.0
        var best = (value: -Double.infinity, point: 0, vector: [Double]())
        for s in 0..<min(seedPoints, order.count) {
            let idx = order[s]
            let est = try estimate(gram, weights[idx], work: work, seed: seed &+ UInt64(idx), steps: lanczosSteps)
            guard est.value.isFinite else { return nil }
            if est.value > best.value { best = (est.value, idx, est.vector) }
            seedLevel = max(seedLevel, est.value * (1 + 1e-7) + 2 * est.residual)
        }
        let chunks = min(maxChunks, order.count)
        var results = [ChunkResult?](repeating: nil, count: chunks)
        var failure: LinalgError? = nil
        results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let out = slots
            nonisolated(unsafe) var failed: LinalgError? = nil
            let lock = NSLock()
            PassCrew.run(crew, chunks: chunks) { ch in
                let lo = ch * order.count / chunks, hi = (ch + 1) * order.count / chunks
                do throws(LinalgError) {
                    out[ch] = try runChunk(gram, indices: Array(order[lo..<hi]), weights: weights, level: seedLevel,
                                           seed: seed, margin: margin)
                } catch {
                    lock.lock(); failed = error; lock.unlock()
                }
            }
            failure = failed
        }
        if let failure { throw failure }
        var squared = 0.0, factorizations = 0
        for r in results {
            guard let r, r.complete else { return nil }
            squared = max(squared, r.squaredBound)
            factorizations += r.factorizations
            if r.bestValue > best.value { best = (r.bestValue, r.bestPoint, r.bestVector) }
        }
        guard squared.isFinite, best.value.isFinite else { return nil }
        return Outcome(squaredBound: squared, bestEstimate: best.value, bestPoint: grid.points[best.point],
                       bestVector: best.vector, factorizations: factorizations)
    }

    /// (cos(ω·Δ_l), sin(ω·Δ_l)) for the grid point k (ω_a = 2πk_a/counts_a): exact integer reduction
    /// of k_a·Δ_a modulo counts_a, tabulated e^{2πit/M} per axis, products of ≤ 3 (within η = 128u).
    static func weightsAt(_ k: [Int], counts: [Int], lags: [[Int]]) -> (a: [Double], b: [Double]) {
        var a = [Double](repeating: 0, count: lags.count), b = a
        for (l, lag) in lags.enumerated() {
            var re = 1.0, im = 0.0
            for ax in 0..<k.count where lag[ax] != 0 {
                let n = counts[ax]
                let t = ((k[ax] * lag[ax]) % n + n) % n
                let x = 2 * Double.pi * Double(t) / Double(n)
                let (c, s) = (cos(x), sin(x))
                (re, im) = (re * c - im * s, re * s + im * c)
            }
            a[l] = re; b[l] = im
        }
        return (a, b)
    }

    /// Scratch of one thread: the assembled matrix and the factorization copy (2p² + slack doubles each).
    final class Workspace {
        let g: UnsafeMutablePointer<Double>, h: UnsafeMutablePointer<Double>
        let p: Int
        init(_ p: Int) {
            self.p = p
            g = .allocate(capacity: 2 * p * p + LAPACK.slack)
            h = .allocate(capacity: 2 * p * p + LAPACK.slack)
        }
        deinit { g.deallocate(); h.deallocate() }
    }

    /// Lanczos estimate of λ_max(G(ω)) at one point.
    static func estimate(_ gram: SymbolGram, _ w: (a: [Double], b: [Double]), work: Workspace, seed: UInt64, steps: Int,
                         start: [Double]? = nil) throws(LinalgError) -> HermitianLanczos.Result {
        let p = gram.order
        gram.assembleHermitian(a: w.a, b: w.b, into: work.g, ld: p)
        let g = work.g
        return try HermitianLanczos.top(order: p, steps: steps, tolerance: 1e-7, start: start, seed: seed) { x, y in
            BLAS.zhemv(n: p, a: g, lda: p, x: x, y: y)
        }
    }

    struct ChunkResult: Sendable {
        var squaredBound = 0.0
        var bestValue = -Double.infinity
        var bestPoint = 0
        var bestVector: [Double] = []
        var factorizations = 0
        var complete = true
    }

    private static func runChunk(_ gram: SymbolGram, indices: [Int], weights: [(a: [Double], b: [Double])], level: Double,
                                 seed: UInt64, margin: (Double, Double) -> Double) throws(LinalgError) -> ChunkResult {
        let p = gram.order
        let work = Workspace(p)
        let extra = (1..<batchSize).map { _ in Matrix(2 * p * p + LAPACK.slack) }
        var r = ChunkResult()
        var mu = level
        func factor(_ h: UnsafeMutablePointer<Double>) throws(LinalgError) -> Bool {
            r.factorizations += 1
            let ok = try LAPACK.choleskySucceeds(h, order: p)
            return ok
        }
        func attempt(_ idx: Int, _ mu: Double) throws(LinalgError) -> Double? {
            let d = gram.assembleHermitian(a: weights[idx].a, b: weights[idx].b, scale: -1, shift: mu, into: work.h, ld: p)
            guard try factor(work.h) else { return nil }
            return mu + margin(d.trace, d.maxDiagonal)
        }
        // A point that failed at the running level: estimate, then climb.
        func climb(_ idx: Int) throws(LinalgError) -> Bool {
            var est = try estimate(gram, weights[idx], work: work, seed: seed &+ UInt64(idx), steps: lanczosSteps)
            guard est.value.isFinite else { return false }
            if est.value > r.bestValue { (r.bestValue, r.bestPoint, r.bestVector) = (est.value, idx, est.vector) }
            // First just above the estimate (θ + 2·residual: right when Lanczos found the top), then with slack.
            var trial = max(est.value * (1 + 1e-7) + 2 * est.residual, mu * (1 + 1e-7))
            for attemptIndex in 0..<40 {
                if let b = try attempt(idx, trial) {
                    mu = trial
                    r.squaredBound = max(r.squaredBound, b)
                    return true
                }
                switch attemptIndex {
                case 0:
                    trial = max(est.value, mu) * (1 + levelSlack)
                case 1:
                    est = try estimate(gram, weights[idx], work: work, seed: seed &+ UInt64(idx), steps: 3 * lanczosSteps,
                                       start: est.vector)
                    if est.value > r.bestValue { (r.bestValue, r.bestPoint, r.bestVector) = (est.value, idx, est.vector) }
                    trial = max(est.value * (1 + levelSlack), trial * (1 + 2 * levelSlack))
                default:
                    trial *= 1 + 16 * levelSlack
                }
            }
            return false
        }
        // Points in batches: one pass over the coefficients assembles them all at the running level
        // (the pass is bound by memory traffic). A climb reuses `work` only, never a later point's matrix.
        let buffers = [work.h] + extra.map(\.base)
        var k = 0
        while k < indices.count {
            let batch = Array(indices[k..<min(k + batchSize, indices.count)])
            let level = mu
            let diagonals = gram.assembleHermitian(batch.enumerated().map { m, idx in
                SymbolGram.Assembly(a: weights[idx].a, b: weights[idx].b, scale: -1, shift: level, out: buffers[m], ld: p)
            })
            for (m, idx) in batch.enumerated() {
                // Matrix m was assembled at `level`; a success there certifies b at that level.
                if try factor(buffers[m]) {
                    r.squaredBound = max(r.squaredBound, level + margin(diagonals[m].trace, diagonals[m].maxDiagonal))
                    continue
                }
                guard try climb(idx) else { r.complete = false; return r }
            }
            k += batch.count
        }
        withExtendedLifetime(extra) {}   // `buffers` points into it
        return r
    }

    /// Points assembled per pass over the coefficients.
    static let batchSize = 4

    /// An owned buffer of doubles (freed in deinit).
    final class Matrix {
        let base: UnsafeMutablePointer<Double>
        init(_ count: Int) { base = .allocate(capacity: count) }
        deinit { base.deallocate() }
    }
}
