// GramLanczos (symmetric Lanczos on AᵀA) driven directly by exact float64 Gram operators.
import Testing
@testable import Linalg

/// A diagonal AᵀA = diag(λ) in a random orthonormal basis would be equivalent; the diagonal itself
/// keeps the test fast while the random start vector still mixes all directions.
private func runDiagonal(_ lambdas: [Double], tolerance: Double = 1e-6, maxIterations: Int = 500,
                         maxBasis: Int = 500, seed: UInt64 = 42) throws -> GramLanczos.Result {
    let engine = GramLanczos(n: lambdas.count, krylovLimit: lambdas.count, tolerance: tolerance,
                             maxIterations: maxIterations, maxBasis: maxBasis, seed: seed)
    return try engine.run { v, out in for i in lambdas.indices { out[i] = lambdas[i] * v[i] } }
}

@Suite struct GramLanczosTests {
    /// Clustered top (σ² = 100, 99.99, 99.98, …): converges to 1e-5 of σ₁ = 10 from below.
    @Test func clusteredTop() throws {
        let lambdas = (0..<400).map { 100 - 0.01 * Double($0) }
        let r = try runDiagonal(lambdas)
        #expect(abs(r.sigma - 10) / 10 <= 1e-5, "\(r.sigma) after \(r.iterations)")
        #expect(r.sigma <= 10 * (1 + 1e-12))
        #expect(r.achievedTolerance <= 1e-6)
    }

    /// Explicit restarts (basis of 6 vectors) keep the estimate monotone and still converge.
    @Test func restartsConverge() throws {
        let lambdas = (0..<300).map { 4 / (1 + Double($0) * 0.05) }  // σ₁ = 2, relative gap ≈ 5 %
        let full = try runDiagonal(lambdas)
        let restarted = try runDiagonal(lambdas, maxBasis: 6)
        for r in [full, restarted] {
            #expect(abs(r.sigma - 2) / 2 <= 1e-6, "\(r.sigma) after \(r.iterations)")
        }
        #expect(restarted.iterations > 6 && restarted.iterations >= full.iterations)
        // Monotone in the cap: more allowed iterations never lower the estimate.
        var previous = 0.0
        for cap in [1, 3, 7, 12, 20] {
            let r = try runDiagonal(lambdas, maxIterations: cap, maxBasis: 6)
            #expect(r.iterations <= cap)
            #expect(r.sigma >= previous * (1 - 1e-12), "cap \(cap): \(r.sigma) < \(previous)")
            previous = r.sigma
        }
    }

    /// Rank deficiency: AᵀA of rank 2 in ℝ⁵⁰ — the Krylov space is invariant after 3 vectors
    /// (start vector plus the two eigenvectors): exact answer, reported as converged.
    @Test func lowRankIsInvariant() throws {
        var lambdas = [Double](repeating: 0, count: 50)
        lambdas[7] = 9; lambdas[31] = 4
        let r = try runDiagonal(lambdas)
        #expect(abs(r.sigma - 3) <= 1e-12 * 3)
        #expect(r.iterations <= 4 && r.achievedTolerance <= 1e-12)
    }

    /// The Krylov limit: with krylovLimit = n the n-th iteration is exact and stops.
    @Test func krylovLimit() throws {
        let r = try runDiagonal([1, 4, 2.25])
        #expect(abs(r.sigma - 2) <= 1e-12 * 2 && r.iterations <= 3 && r.achievedTolerance == 0)
        let single = try runDiagonal([6.25])
        #expect(single.sigma == 2.5 && single.iterations == 1)
    }

    /// A Gram product that yields NaN (e.g. overflowing data) is reported as σ = NaN, not a crash.
    @Test func nanProduct() throws {
        let engine = GramLanczos(n: 10, krylovLimit: 10, tolerance: 1e-6, maxIterations: 50, maxBasis: 50, seed: 1)
        let r = try engine.run { _, out in for i in 0..<10 { out[i] = .nan } }
        #expect(r.sigma.isNaN && r.iterations == 1)
    }

    /// Panels of the fused dense Gram product: whole rows, ≤ 1 MiB, a multiple of 8 rows when
    /// more than 8 and less than the whole block (the products themselves are checked against
    /// dgesdd through `SpectralNorm.largest` in SpectralNormTests, including remainder panels).
    @Test func panelRowsAreMultiplesOfEight() {
        #expect(SpectralNorm.panelRows(rows: 4096, cols: 25088) == 8)
        #expect(SpectralNorm.panelRows(rows: 4096, cols: 4096) == 64)
        #expect(SpectralNorm.panelRows(rows: 3, cols: 25088) == 3)
        #expect(SpectralNorm.panelRows(rows: 10, cols: 1 << 20) == 1)
        #expect(SpectralNorm.panelRows(rows: 37, cols: 300) == 37)
        #expect(SpectralNorm.panelRows(rows: 4096, cols: 4608) == 56)
    }
}

/// Block Lanczos (`BlockGramLanczos`) on exact diagonal Gram operators.
private func runBlockDiagonal(_ lambdas: [Double], blockSize: Int, tolerance: Double = 1e-6,
                              maxIterations: Int = 500, maxBasis: Int = 512, seed: UInt64 = 42) throws -> GramLanczos.Result {
    let n = lambdas.count
    let engine = BlockGramLanczos(n: n, blockSize: blockSize, krylovLimit: n, tolerance: tolerance,
                                  maxIterations: maxIterations, maxBasis: maxBasis, seed: seed)
    return try engine.run { x, out in
        for j in 0..<blockSize { for i in 0..<n { out[j * n + i] = lambdas[i] * x[j * n + i] } }
    }
}

@Suite struct BlockGramLanczosTests {
    /// Exactly repeated top (σ² = 100 twice, then a clustered tail) and a near-degenerate pair
    /// (σ₁² − σ₂² = 1e-4 relative): b = 2 and 3 reach σ₁ = 10 to 1e-6, never above it.
    @Test(arguments: [2, 3])
    func clusteredTops(_ b: Int) throws {
        let repeated = [100.0, 100] + (0..<398).map { 99.9 - 0.01 * Double($0) }
        let near = [100.0, 100 * (1 - 1e-4)] + (0..<398).map { 99.9 - 0.01 * Double($0) }
        for lambdas in [repeated, near] {
            let r = try runBlockDiagonal(lambdas, blockSize: b)
            #expect(abs(r.sigma - 10) / 10 <= 1e-6, "b = \(b): \(r.sigma) after \(r.iterations)")
            #expect(r.sigma <= 10 * (1 + 1e-12))
            #expect(r.achievedTolerance <= 1e-6)
        }
    }

    /// Rank 3 in ℝ⁵⁰ with b = 2: the second block's residual is rank deficient (a column is
    /// replaced by a fresh random direction), then the space is invariant: exact σ₁.
    @Test func lowRankDeflates() throws {
        var lambdas = [Double](repeating: 0, count: 50)
        lambdas[7] = 9; lambdas[31] = 4; lambdas[40] = 1
        let r = try runBlockDiagonal(lambdas, blockSize: 2)
        #expect(abs(r.sigma - 3) <= 1e-12 * 3, "\(r.sigma) after \(r.iterations)")
        #expect(r.iterations <= 4 && r.achievedTolerance <= 1e-12)
    }

    /// Restarts from the b top Ritz vectors (basis of 3 blocks) stay monotone and converge.
    @Test func restartsConverge() throws {
        let lambdas = (0..<300).map { 4 / (1 + Double($0) * 0.05) }
        let r = try runBlockDiagonal(lambdas, blockSize: 2, maxBasis: 6)
        #expect(abs(r.sigma - 2) / 2 <= 1e-6, "\(r.sigma) after \(r.iterations)")
        var previous = 0.0
        for cap in [1, 2, 4, 7, 12] {
            let c = try runBlockDiagonal(lambdas, blockSize: 2, maxIterations: cap, maxBasis: 6)
            #expect(c.iterations <= cap)
            #expect(c.sigma >= previous * (1 - 1e-12), "cap \(cap): \(c.sigma) < \(previous)")
            previous = c.sigma
        }
    }

    /// The Krylov limit: b·k = n makes θ exact.
    @Test func krylovLimit() throws {
        let r = try runBlockDiagonal([1, 4, 2.25, 0.5], blockSize: 2)
        #expect(abs(r.sigma - 2) <= 1e-12 * 2 && r.iterations <= 2 && r.achievedTolerance == 0)
    }

    /// NaN Gram products are reported, not a crash.
    @Test func nanProduct() throws {
        let engine = BlockGramLanczos(n: 10, blockSize: 2, krylovLimit: 10, tolerance: 1e-6, maxIterations: 50, maxBasis: 50, seed: 1)
        let r = try engine.run { _, out in for i in 0..<20 { out[i] = .nan } }
        #expect(r.sigma.isNaN && r.iterations == 1)
    }

    /// The dense path picks b = 2 only for large blocks (≥ 2²⁴ elements, both sides ≥ 64).
    @Test func blockSizeSelection() {
        #expect(SpectralNorm.lanczosBlockSize(rows: 4096, cols: 25088) == 2)
        #expect(SpectralNorm.lanczosBlockSize(rows: 4096, cols: 4096) == 2)
        #expect(SpectralNorm.lanczosBlockSize(rows: 512, cols: 4608) == 1)
        #expect(SpectralNorm.lanczosBlockSize(rows: 32, cols: 1 << 20) == 1)
    }
}
