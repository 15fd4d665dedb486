// The operator norm of a convolution with a certified interval.

public struct OperatorNormEstimate: Sendable, Equatable {
    /// Which proven bound `upper` is.
    public enum UpperMethod: String, Sendable {
        /// √c·σ_matrix (c = ``ConvGeometry/overlapCount``).
        case overlap
        /// The symbol bound of ``SymbolBound``.
        case symbol
    }
    public var lower: Double     // ‖A v‖/‖v‖ at the final iterate (always ≤ σ_op)
    public var upper: Double     // rigorous: min(√c·σ_matrix, symbol bound); `upperMethod` says which
    public var iterations: Int
    public var achievedTolerance: Double
    public var upperMethod: UpperMethod
    /// The symbol bound as computed (nil when skipped), also when it lost to √c·σ_matrix or was
    /// rejected for contradicting `lower` (see ``OperatorNorm/convolution(_:matrixSigma:options:)``).
    public var symbolUpper: Double?

    public init(lower: Double, upper: Double, iterations: Int, achievedTolerance: Double,
                upperMethod: UpperMethod = .overlap, symbolUpper: Double? = nil) {
        self.lower = lower; self.upper = upper; self.iterations = iterations; self.achievedTolerance = achievedTolerance
        self.upperMethod = upperMethod; self.symbolUpper = symbolUpper
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
    /// relative change of the Ritz value (`options.operatorTolerance`, 1e-4 by default: see there)
    /// or `options.maxIterations`.
    ///
    /// - lower = ‖A·v‖/‖v‖ for the final Ritz vector v (rounded to float32 and applied once more).
    ///   A Rayleigh-quotient bound: ≤ σ_op exactly, up to the float32 rounding of that one product
    ///   (relative ≲ 1e-6 in practice; the worst case is γ_K·‖|A|‖/σ_op with K the terms per output).
    /// - upper = min of two proven bounds (`upperMethod` says which won):
    ///   (a) √c·matrixSigma with c = ``ConvGeometry/overlapCount``. Proof: A·x = [W_gr·P(x_gr)]_gr
    ///   with P the im2col map, so ‖A·x‖ ≤ σ_matrix·‖P(x)‖_F and ‖P(x)‖²_F = Σ_p x_p²·#windows(p)
    ///   ≤ c·‖x‖²; a ConvTranspose is the adjoint of such a Conv with the same blocks, and
    ///   ‖Aᵀ‖ = ‖A‖. Rigorous when `matrixSigma` ≥ σ_matrix (pass the exact or an upper value;
    ///   a Lanczos σ_matrix is low by ≈ its achieved tolerance).
    ///   (b) the symbol bound max_ω σ_max(Ŵ(ω)) of ``SymbolBound`` (proof there), computed from the
    ///   weight alone, unless its estimated cost exceeds `options.symbolFlopBudget`.
    ///   A symbol bound below lower·(1 − 1e-4) contradicts its theorem (lower carries only float32
    ///   rounding, ≲ 1e-6 relative in practice): it is then discarded (upper = (a)) and stays
    ///   visible in `symbolUpper`. Within that slack upper may sit below lower, as (a) already may
    ///   when it is tight (c = 1).
    /// A non-finite weight gives lower = upper = its Frobenius norm (∞ or NaN); a zero weight 0.
    public static func convolution(_ op: ConvOperator, matrixSigma: Double,
                                   options: SpectralOptions = .init()) -> OperatorNormEstimate {
        let g = op.geometry
        let overlap = Double(g.overlapCount).squareRoot() * matrixSigma
        let weightNorm = op.weightFrobenius
        guard weightNorm.isFinite, weightNorm > 0 else {
            return OperatorNormEstimate(lower: weightNorm, upper: weightNorm.isNaN ? .nan : max(weightNorm, overlap),
                                        iterations: 0, achievedTolerance: 0)
        }
        let symbol = options.symbolFlopBudget > 0 ? SymbolBound.convolution(op, flopBudget: options.symbolFlopBudget) : nil
        let m = g.outputCount, n = g.inputCount
        let xs = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(m, n))
        let ys = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(m, n))
        defer { xs.deallocate(); ys.deallocate() }
        let budget = (256 << 20) / (8 * (m + n))
        let engine = GolubKahanLanczos(m: m, n: n, tolerance: options.operatorTolerance,
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
            let (upper, method) = combine(lower: 0, overlap: overlap, symbol: symbol)
            return OperatorNormEstimate(lower: 0, upper: upper, iterations: 0, achievedTolerance: .infinity,
                                        upperMethod: method, symbolUpper: symbol)
        }
        // lower = ‖A·v‖/‖v‖ with v as applied (float32).
        var lower = result.sigma
        if result.vector.count == n {
            for j in 0..<n { xs[j] = Float(result.vector[j]) }
            op.apply(inN, batch: 1, into: outM)
            let vNorm = Frobenius.norm(inN)
            if vNorm > 0 { lower = Frobenius.norm(UnsafeBufferPointer(outM)) / vNorm }
        }
        let (upper, method) = combine(lower: lower, overlap: overlap, symbol: symbol)
        return OperatorNormEstimate(lower: lower, upper: upper, iterations: result.iterations,
                                    achievedTolerance: result.achievedTolerance, upperMethod: method, symbolUpper: symbol)
    }

    /// upper = min(overlap, symbol), except that a missing, non-finite or negative symbol bound, or one
    /// below lower·(1 − 1e-4) (impossible for a correct bound), is ignored.
    static func combine(lower: Double, overlap: Double, symbol: Double?) -> (Double, OperatorNormEstimate.UpperMethod) {
        guard let s = symbol, s.isFinite, s >= 0, !(s < lower * (1 - 1e-4)) else { return (overlap, .overlap) }
        return overlap.isNaN || s < overlap ? (s, .symbol) : (overlap, .overlap)
    }
}
