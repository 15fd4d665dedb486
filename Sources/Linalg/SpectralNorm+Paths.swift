// The two computational paths of SpectralNorm: float64 Gram + dsyevr, and float32-product Lanczos.
import CBLAS

extension SpectralNorm {
    /// σ_max = √λ_max(G), G = A·Aᵀ (rows ≤ cols) or Aᵀ·A, accumulated in float64 by `dsyrk` over
    /// float64 copies of panels of at most 2¹⁸ elements (so `exact` on a huge matrix needs only G,
    /// p² doubles, plus one panel).
    static func gramLargest(_ a: UnsafeBufferPointer<Float>, rows: Int, cols: Int) throws(LinalgError) -> Double {
        guard let base = a.baseAddress else { return 0 }
        let p = min(rows, cols), q = max(rows, cols)
        var g = [Double](repeating: 0, count: p * p)
        // Panels along the long dimension: w of the q indices at a time, each a p × w (or w × p) slab.
        let w = max(1, min(q, (1 << 18) / p))
        var panel = [Double](repeating: 0, count: p * w)
        var start = 0
        while start < q {
            let width = min(w, q - start)
            g.withUnsafeMutableBufferPointer { gb in
                panel.withUnsafeMutableBufferPointer { pb in
                    guard let pp = pb.baseAddress, let gp = gb.baseAddress else { return }
                    if rows <= cols {
                        // Columns start..<start+width of A as a rows × width panel; G += P·Pᵀ.
                        for r in 0..<rows { for c in 0..<width { pp[r * width + c] = Double(base[r * cols + start + c]) } }
                        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, BLAS.int(p), BLAS.int(width), 1,
                                    pp, BLAS.int(width), 1, gp, BLAS.int(p))
                    } else {
                        // Rows start..<start+width of A as a width × cols panel; G += Pᵀ·P.
                        for i in 0..<(width * cols) { pp[i] = Double(base[start * cols + i]) }
                        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, BLAS.int(p), BLAS.int(width), 1,
                                    pp, BLAS.int(cols), 1, gp, BLAS.int(p))
                    }
                }
            }
            start += width
        }
        return max(0, try LAPACK.largestEigenvalue(&g, order: p)).squareRoot()
    }

    /// Panel of the fused Gram product: at most 1 MiB of float32 (half a 2 MiB L2), whole rows,
    /// a multiple of 8 rows when more than 8 and not the whole block (OpenBLAS's sgemv kernels take rows in
    /// fours: 5 rows cost 26 ms per pass over 4096 × 25088, 4 or 8 rows 21 ms, sgemv then sgemvᵀ
    /// unfused 40 ms; the memory-bandwidth floor for one read of the 411 MB is 16–17 ms).
    static func panelRows(rows: Int, cols: Int) -> Int {
        let r = max(1, min(rows, (1 << 18) / max(cols, 1)))
        return r > 8 && r < rows ? r - r % 8 : r
    }
    /// The exact power of two s ≈ √max(m, n)/‖A‖_F that keeps the float32 partial sums of a
    /// scaled Gram pass in range (see ``lanczos(_:rows:cols:frobenius:options:blockSize:)``),
    /// with 1/s² and s as Float.
    static func passScaling(rows: Int, cols: Int, frobenius: Double) -> (s: Double, inverseSquare: Double, scale: Float) {
        let e = min(126, max(-126, Double(max(rows, cols)).squareRoot().exponent - frobenius.exponent))
        let s = Double(sign: .plus, exponent: e, significand: 1)
        return (s, 1 / (s * s), Float(s))
    }

    /// Rows whose float32 contributions to AᵀA·v are summed before adding them to the float64 total.
    static let flushRows = 256

    /// σ₁ by symmetric Lanczos on AᵀA (`GramLanczos`) with the float32 block in place: each Gram
    /// product is one ``GramPass`` over A (b = 1). One iteration = one pass over A.
    static func lanczos(_ a: UnsafeBufferPointer<Float>, rows: Int, cols: Int, frobenius: Double,
                        options: SpectralOptions, blockSize: Int? = nil) throws(LinalgError) -> SpectralEstimate {
        guard let base = a.baseAddress else { return SpectralEstimate(sigma: 0, iterations: 0, achievedTolerance: 0, method: .exact) }
        let b = blockSize ?? lanczosBlockSize(rows: rows, cols: cols)
        if b > 1 && 2 * b <= cols {
            return try blockLanczos(base, rows: rows, cols: cols, frobenius: frobenius, options: options, blockSize: b)
        }
        let pass = GramPass(base, rows: rows, cols: cols, vectors: 1, frobenius: frobenius)
        defer { pass.deallocate() }
        // Stored Lanczos vectors (float64, n each) capped at 512 MiB before restarting.
        let budget = (512 << 20) / (8 * cols)
        let engine = GramLanczos(n: cols, krylovLimit: min(cols, rows + 1), tolerance: options.tolerance,
                                 maxIterations: max(1, options.maxIterations),
                                 maxBasis: min(max(2, budget), options.maxIterations + 1), seed: options.seed)
        let r = try engine.run(applyGram: { v, out in pass.apply(v, out, crew: options.crew) })
        return SpectralEstimate(sigma: r.sigma, iterations: r.iterations, achievedTolerance: r.achievedTolerance, method: .lanczos)
    }

    /// Block size of the dense Lanczos path: 2 for blocks of at least ``blockLanczosThreshold``
    /// elements (where a pass is memory-bound and the second vector nearly free), else 1.
    static func lanczosBlockSize(rows: Int, cols: Int) -> Int {
        rows * cols >= blockLanczosThreshold && min(rows, cols) >= 64 ? 2 : 1
    }
    static let blockLanczosThreshold = 1 << 24

    /// σ₁ by block Lanczos (`BlockGramLanczos`, b vectors) with the same fused, scaled pass as
    /// ``lanczos(_:rows:cols:frobenius:options:blockSize:)``, each row panel applied to all b
    /// vectors at once (``GramPass``). One iteration = one pass over A.
    static func blockLanczos(_ base: UnsafePointer<Float>, rows: Int, cols: Int, frobenius: Double,
                             options: SpectralOptions, blockSize b: Int) throws(LinalgError) -> SpectralEstimate {
        let pass = GramPass(base, rows: rows, cols: cols, vectors: b, frobenius: frobenius)
        defer { pass.deallocate() }
        let budget = (512 << 20) / (8 * cols)
        // T is dense (k·b)²: cap the basis at 512 vectors so dsyevr stays ≲ 10 ms per pass.
        let engine = BlockGramLanczos(n: cols, blockSize: b, krylovLimit: min(cols, rows + b), tolerance: options.tolerance,
                                      maxIterations: max(1, options.maxIterations),
                                      maxBasis: max(2 * b, min(budget, 512, b * (options.maxIterations + 1))), seed: options.seed)
        let r = try engine.run(applyGram: { v, out in pass.apply(v, out, crew: options.crew) })
        return SpectralEstimate(sigma: r.sigma, iterations: r.iterations, achievedTolerance: r.achievedTolerance, method: .lanczos)
    }
}
