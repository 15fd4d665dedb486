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

    /// Golub–Kahan–Lanczos on the float32 block in place. Products go through `cblas_sgemv` on
    /// float32 copies of the float64 Lanczos vectors pre-scaled by a power of two s ≈ √max(m,n)/‖A‖_F
    /// (exact scaling), which keeps every float32 partial sum ≤ ‖A‖_F·‖s·v‖ ≈ √max(m,n): no overflow
    /// even for weights near the float32 limit.
    static func lanczos(_ a: UnsafeBufferPointer<Float>, rows: Int, cols: Int, frobenius: Double,
                        options: SpectralOptions) throws(LinalgError) -> SpectralEstimate {
        guard let base = a.baseAddress else { return SpectralEstimate(sigma: 0, iterations: 0, achievedTolerance: 0, method: .exact) }
        let s = Double(sign: .plus, exponent: Double(max(rows, cols)).squareRoot().exponent - frobenius.exponent, significand: 1)
        let inv = 1 / s
        let xs = UnsafeMutablePointer<Float>.allocate(capacity: max(rows, cols))
        let ys = UnsafeMutablePointer<Float>.allocate(capacity: max(rows, cols))
        defer { xs.deallocate(); ys.deallocate() }
        // Stored Lanczos vectors: both sides, float64, capped at 512 MiB before restarting.
        let budget = (512 << 20) / (8 * (rows + cols))
        let engine = GolubKahanLanczos(m: rows, n: cols, tolerance: options.tolerance,
                                       maxIterations: max(1, options.maxIterations),
                                       maxBasis: min(max(2, budget), options.maxIterations + 1), seed: options.seed)
        let r = try engine.run(applyA: { v, out in
            for j in 0..<cols { xs[j] = Float(v[j] * s) }
            BLAS.sgemv(trans: false, m: rows, n: cols, alpha: 1, a: base, lda: cols, x: xs, beta: 0, y: ys)
            for i in 0..<rows { out[i] = Double(ys[i]) * inv }
        }, applyAT: { u, out in
            for i in 0..<rows { xs[i] = Float(u[i] * s) }
            BLAS.sgemv(trans: true, m: rows, n: cols, alpha: 1, a: base, lda: cols, x: xs, beta: 0, y: ys)
            for j in 0..<cols { out[j] = Double(ys[j]) * inv }
        })
        return SpectralEstimate(sigma: r.sigma, iterations: r.iterations, achievedTolerance: r.achievedTolerance, method: .lanczos)
    }
}
