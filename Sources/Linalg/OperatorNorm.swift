// The operator norm of a convolution with a certified interval.

public struct OperatorNormEstimate: Sendable, Equatable {
    public var lower: Double     // ‖A v‖/‖v‖ at the final iterate (always ≤ σ_op)
    public var upper: Double     // rigorous: min over proven bounds, e.g. √c·σ_matrix (state which in docs)
    public var iterations: Int
    public var achievedTolerance: Double

    public init(lower: Double, upper: Double, iterations: Int, achievedTolerance: Double) {
        self.lower = lower; self.upper = upper; self.iterations = iterations; self.achievedTolerance = achievedTolerance
    }
}

extension ConvGeometry {
    /// The reshaped weight as `blocks` row-major matrices (DESIGN.md §1.1): Conv (M/g) × (C/g·Πk),
    /// ConvTranspose (C/g) × (M/g·Πk), g blocks, contiguous in the ONNX weight. σ_matrix is the
    /// max of their largest singular values: `SpectralNorm.largest(weight, rows:cols:blocks:)`.
    public var weightMatrix: (rows: Int, cols: Int, blocks: Int) {
        (smallChannels / max(groups, 1), bigChannels / max(groups, 1) * kernel.reduce(1, *), groups)
    }
}

/// Operator norms of convolutions.
public enum OperatorNorm {
    /// σ_op of the convolution by power iteration or Lanczos on AᵀA from a seeded random start
    /// (batch 1), certified interval [lower, upper]. `matrixSigma` = σ_matrix of the reshaped weight
    /// (max over groups' blocks) used for the upper bound.
    ///
    /// Algorithm: Golub–Kahan–Lanczos (see `GolubKahanLanczos`; Krylov space of AᵀA) with the matrix-free
    /// products ``ConvOperator/apply(_:batch:into:)`` and ``ConvOperator/adjoint(_:batch:into:)`` in
    /// float32 and everything else in float64; full reorthogonalization with at most
    /// ~256 MiB of stored vectors, restarting from the Ritz vector beyond that. Stops on the
    /// relative change of the Ritz value (`options.tolerance`) or `options.maxIterations`.
    ///
    /// - lower = ‖A·v‖/‖v‖ for the final Ritz vector v (rounded to float32 and applied once more).
    ///   A Rayleigh-quotient bound: ≤ σ_op exactly, up to the float32 rounding of that one product
    ///   (relative ≲ 1e-6 in practice; the worst case is γ_K·‖|A|‖/σ_op with K the terms per output).
    /// - upper = √c·matrixSigma with c = ``ConvGeometry/overlapCount``. Proof: A·x = [W_gr·P(x_gr)]_gr
    ///   with P the im2col map, so ‖A·x‖ ≤ σ_matrix·‖P(x)‖_F and ‖P(x)‖²_F = Σ_p x_p²·#windows(p)
    ///   ≤ c·‖x‖²; a ConvTranspose is the adjoint of such a Conv with the same blocks, and
    ///   ‖Aᵀ‖ = ‖A‖. Rigorous when `matrixSigma` ≥ σ_matrix (pass the exact or an upper value;
    ///   a Lanczos σ_matrix is low by ≈ its achieved tolerance).
    /// A non-finite weight gives lower = upper = its Frobenius norm (∞ or NaN); a zero weight 0.
    public static func convolution(_ op: ConvOperator, matrixSigma: Double,
                                   options: SpectralOptions = .init()) -> OperatorNormEstimate {
        let g = op.geometry
        let upper = Double(g.overlapCount).squareRoot() * matrixSigma
        let weightNorm = op.weightFrobenius
        guard weightNorm.isFinite, weightNorm > 0 else {
            return OperatorNormEstimate(lower: weightNorm, upper: weightNorm.isNaN ? .nan : max(weightNorm, upper),
                                        iterations: 0, achievedTolerance: 0)
        }
        let m = g.outputCount, n = g.inputCount
        let xs = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(m, n))
        let ys = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(m, n))
        defer { xs.deallocate(); ys.deallocate() }
        let budget = (256 << 20) / (8 * (m + n))
        let engine = GolubKahanLanczos(m: m, n: n, tolerance: options.tolerance,
                                       maxIterations: max(1, options.maxIterations),
                                       maxBasis: min(max(2, budget), options.maxIterations + 1),
                                       seed: options.seed, wantVector: true)
        let inN = UnsafeBufferPointer(rebasing: xs[0..<n]), outM = UnsafeMutableBufferPointer(rebasing: ys[0..<m])
        let inM = UnsafeBufferPointer(rebasing: xs[0..<m]), outN = UnsafeMutableBufferPointer(rebasing: ys[0..<n])
        let result: GolubKahanLanczos.Result
        do {
            result = try engine.run(applyA: { v, out in
                for j in 0..<n { xs[j] = Float(v[j]) }
                op.apply(inN, batch: 1, into: outM)
                for i in 0..<m { out[i] = Double(ys[i]) }
            }, applyAT: { u, out in
                for i in 0..<m { xs[i] = Float(u[i]) }
                op.adjoint(inM, batch: 1, into: outN)
                for j in 0..<n { out[j] = Double(ys[j]) }
            })
        } catch {
            // Only the k × k bidiagonal SVD can fail (dbdsqr non-convergence): report no lower bound.
            return OperatorNormEstimate(lower: 0, upper: upper, iterations: 0, achievedTolerance: .infinity)
        }
        // lower = ‖A·v‖/‖v‖ with v as applied (float32).
        var lower = result.sigma
        if result.vector.count == n {
            for j in 0..<n { xs[j] = Float(result.vector[j]) }
            op.apply(inN, batch: 1, into: outM)
            let vNorm = Frobenius.norm(inN)
            if vNorm > 0 { lower = Frobenius.norm(UnsafeBufferPointer(outM)) / vNorm }
        }
        return OperatorNormEstimate(lower: lower, upper: upper, iterations: result.iterations,
                                    achievedTolerance: result.achievedTolerance)
    }
}
