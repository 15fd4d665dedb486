// The spectral norm (largest singular value) of float32 weight matrices.

public struct SpectralOptions: Sendable {
    /// Stop when the relative change of the σ estimate between two iterations is ≤ this.
    public var tolerance: Double = 1e-6      // relative change of the σ estimate between iterations
    /// Convolution operator norms (``OperatorNorm/convolution(_:matrixSigma:options:)``): stop the
    /// Lanczos iteration behind σ_op's *lower* end at this relative change, where that iteration
    /// runs (small layers, see `lanczosFlopBudget`, and the refinement of a short packet bound).
    /// The lower end only shows how tight the proven upper end is (a Ritz value, ≤ σ_op wherever
    /// the iteration stops), and conv operators on large grids have clustered top singular values:
    /// VGG-19's convolutions at 224² needed 49–500 (capped) iterations at 1e-6 against 27–63 at
    /// 1e-4, for lower ends at most 0.11 % smaller — which is why large layers now use the packet.
    public var operatorTolerance: Double = 1e-4
    /// Iteration cap (one iteration = one pass over the weights: one AᵀA-product, or for large
    /// dense blocks one block product AᵀA·X on b = 2 vectors, fused into one pass over the matrix).
    public var maxIterations: Int = 500
    /// Force the direct LAPACK path whatever the size.
    public var exact: Bool = false           // force LAPACK
    /// Use LAPACK when rows·cols ≤ this. 2²⁰ elements: the Gram path costs p²·q + (4/3)·p³ flops
    /// (p = min(rows, cols)), ≲ 0.3 s for the worst shape 1024 × 1024, and gives σ to ~1e-15;
    /// above it Lanczos needs far fewer flops (≈ 4·k·rows·cols, k ≈ 20–60 passes).
    public var exactThreshold: Int = 1 << 20 // use LAPACK when rows*cols ≤ this (documented choice; tune it)
    /// Seed of the Gaussian start vector (results are reproducible).
    public var seed: UInt64 = 42
    /// Convolutions: the symbol bound on the exact grid by eigenvalues (``SymbolBound``) runs up to
    /// this many estimated flops (``SymbolBound/estimatedFlops(_:)``); above it (or with 0) the
    /// symbol bound is certified by Cholesky factorizations instead (``SymbolCertificate``), which
    /// costs far less per frequency and has no budget: every convolution gets a symbol bound.
    public var symbolFlopBudget: Double = SymbolBound.defaultFlopBudget
    /// Idle worker threads that take chunks of the dense Gram passes (``PassCrew``) and of the
    /// symbol certificates (``SymbolCertificate``); nil: everything runs on the calling thread.
    /// Results are bit-identical either way.
    public var crew: PassCrew? = nil
    /// Convolutions, upper end: the largest correction factor 1 + ε a coarse certification grid may
    /// carry (``CertificationGrid``, the Van der Corput–Schaake step). 3 % by default: 169
    /// frequencies for a 3×3 kernel, where the exact grid of a 224² input has 25 300.
    public var symbolGridSlack: Double = 0.03
    /// Convolutions, upper end: estimated flops up to which a finer certification grid (correction
    /// 0.2 %, 0.5 %, 1 %, 2 %, or the exact circulant grid) is chosen over the `symbolGridSlack` one.
    /// 8e9 ≈ 0.6 s on one core here; the 512-channel VGG-19 layers stay at the exact (14²) or the
    /// 3 % (28²) grid, the ≤ 256-channel ones get 0.2–2 %.
    public var symbolCertifyBudget: Double = 4e9
    /// Convolutions, lower end: when the Lanczos iteration on AᵀA is estimated at ≤ this many flops
    /// (64 iterations of a product with A and one with Aᵀ), it runs from a random start to
    /// `operatorTolerance` as before; above, the lower end is the packet bound of
    /// ``PacketLowerBound`` (no product with A at all), refined by Lanczos from the packet only
    /// while it is more than `operatorGap` below the certified symbol value.
    public var lanczosFlopBudget: Double = 2e9
    /// Convolutions, lower end: the relative gap to the certified symbol value below which the lower
    /// end is not refined further (see `lanczosFlopBudget`).
    public var operatorGap: Double = 0.02

    public init(tolerance: Double = 1e-6, operatorTolerance: Double = 1e-4, maxIterations: Int = 500, exact: Bool = false,
                exactThreshold: Int = 1 << 20, seed: UInt64 = 42,
                symbolFlopBudget: Double = SymbolBound.defaultFlopBudget,
                symbolGridSlack: Double = 0.03, symbolCertifyBudget: Double = 4e9,
                lanczosFlopBudget: Double = 2e9, operatorGap: Double = 0.02) {
        self.tolerance = tolerance; self.operatorTolerance = operatorTolerance
        self.maxIterations = maxIterations; self.exact = exact
        self.exactThreshold = exactThreshold; self.seed = seed; self.symbolFlopBudget = symbolFlopBudget
        self.symbolGridSlack = symbolGridSlack; self.symbolCertifyBudget = symbolCertifyBudget
        self.lanczosFlopBudget = lanczosFlopBudget; self.operatorGap = operatorGap
    }
}

public struct SpectralEstimate: Sendable, Equatable {
    public enum Method: String, Sendable { case exact, lanczos, power }
    public var sigma: Double             // largest singular value
    public var iterations: Int           // 0 for exact
    public var achievedTolerance: Double // relative change at stop (0 for exact)
    public var method: Method

    public init(sigma: Double, iterations: Int, achievedTolerance: Double, method: Method) {
        self.sigma = sigma; self.iterations = iterations; self.achievedTolerance = achievedTolerance; self.method = method
    }
}

/// Largest singular values of weight matrices.
///
/// Accuracy. The iterative path (symmetric Lanczos on AᵀA, see `GramLanczos` and
/// `SpectralNorm.lanczos`) streams the float32 weights in place once per iteration through
/// `cblas_sgemv` on row panels (y = P·x, then w += Pᵀ·y while P is in cache) with float32 copies of
/// float64 Lanczos vectors, and keeps everything else (recurrence, reorthogonalization, the small
/// tridiagonal eigenproblem) in float64. Stopping (see `GramLanczos`, same rule as
/// `GolubKahanLanczos`): relative change of the Ritz value θ_k ≤ tolerance, its geometric
/// extrapolation ≤ tolerance, and relative Ritz residual ≤ 100·tolerance (clamped to [1e-5, 1e-2]).
/// The residual test matters when the top singular values are nearly degenerate: there θ_k stalls
/// (change < 1e-6) while still 5e-5 below σ₁ (seen on stride-1 convolutions). θ_k ≤ σ₁ always
/// (a Ritz value), so the error is one-sided. Measured error against LAPACK `dgesdd` at the
/// default 1e-6: 1e-8 … 6e-8 relative on He-scaled Gaussian 512 × 4608 … 4096 × 25088, and the
/// tests demand 1e-5 on Gaussian, diagonal, low-rank, tiny, repeated-top and multi-block cases.
/// Not the 1e-10 one might expect from "quadratic" Ritz convergence: the float32 products
/// (backward error ~√n·2⁻²⁴·‖A‖ per product) put the floor near 1e-8 relative.
/// Cost: `iterations` passes over the weights (plus one for the Frobenius norm); on 4096 × 25088
/// Gaussian (411 MB) 57 passes of ≈ 21–25 ms each on one thread, memory-bound. With idle workers
/// in ``SpectralOptions/crew`` each pass's row groups are shared (`kappa-bench passes`: ≈ 30 →
/// 20 ms per pass with one helper, engine work included), bit-identical to one thread.
/// Blocks of ≥ 2²⁴ elements use block Lanczos with b = 2 (`BlockGramLanczos`): each pass applies
/// the cached row panel to two vectors with one `sgemm`, at about the cost of one vector, and the
/// iteration no longer stalls on a clustered top pair (VGG-19 fc6, (σ₁ − σ₂)/σ₁ = 3.4e-4: 104 → 68
/// passes; see that type). `iterations` still counts passes over the weights.
/// The exact path (``SpectralOptions/exact`` or rows·cols ≤ ``SpectralOptions/exactThreshold``)
/// accumulates the Gram matrix AAᵀ or AᵀA (the smaller) in float64 from float64 copies of
/// row/column panels (`dsyrk`) and takes its largest eigenvalue with `dsyevr`: σ = √λ_max to
/// ~p·2⁻⁵³ relative.
///
/// Non-finite data: a block containing ±∞ has σ = +∞ and one containing NaN has σ = NaN
/// (reported without iterating).
public enum SpectralNorm {
    /// Largest singular value over `blocks` contiguous row-major float32 blocks of rows × cols each
    /// (data.count == blocks*rows*cols): the norm of the block-diagonal map = max over blocks.
    /// Works on the float32 data in place (no copy of large tensors); symmetric Lanczos on AᵀA
    /// (the Krylov space of Golub–Kahan bidiagonalization, one pass over A per iteration) with full
    /// reorthogonalization, float64 accumulation where accuracy needs it; LAPACKE dgesdd (or dsyevr on the smaller Gram matrix) when
    /// options.exact or the block is below options.exactThreshold. iterations = max over blocks.
    ///
    /// `method` is `.lanczos` when any block was iterated, else `.exact`; `achievedTolerance` is the
    /// max over blocks. Empty matrices have σ = 0.
    /// `frobenius`, when given for a single block, is its ‖A‖_F (saves one pass over the data).
    public static func largest(_ data: UnsafeBufferPointer<Float>, rows: Int, cols: Int, blocks: Int = 1,
                               options: SpectralOptions = .init(), frobenius: Double? = nil) throws(LinalgError) -> SpectralEstimate {
        guard rows >= 0, cols >= 0, blocks >= 0,
              let count = ConvGeometry.checkedProduct([blocks, rows, cols]), count == data.count else {
            throw .invalidShape("\(data.count) elements are not \(blocks) block(s) of \(rows) × \(cols)")
        }
        guard rows <= BLAS.maxDimension, cols <= BLAS.maxDimension, rows * cols <= BLAS.maxDimension else {
            throw .invalidShape("a \(rows) × \(cols) block exceeds the 32-bit BLAS/LAPACK limit")
        }
        var result = SpectralEstimate(sigma: 0, iterations: 0, achievedTolerance: 0, method: .exact)
        guard count > 0, let base = data.baseAddress else { return result }
        let size = rows * cols
        for b in 0..<blocks {
            let block = UnsafeBufferPointer(start: base + b * size, count: size)
            let e = try largestOfBlock(block, rows: rows, cols: cols, options: options,
                                       frobenius: blocks == 1 ? frobenius : nil)
            if e.sigma.isNaN || result.sigma.isNaN { result.sigma = .nan } else { result.sigma = max(result.sigma, e.sigma) }
            result.iterations = max(result.iterations, e.iterations)
            result.achievedTolerance = max(result.achievedTolerance, e.achievedTolerance)
            if e.method != .exact { result.method = e.method }
        }
        return result
    }

    /// All singular values of a dense row-major double matrix by LAPACKE_dgesdd (descending).
    public static func singularValues(_ a: [Double], rows: Int, cols: Int) throws(LinalgError) -> [Double] {
        guard rows >= 0, cols >= 0, let count = ConvGeometry.checkedProduct([rows, cols]), count == a.count else {
            throw .invalidShape("\(a.count) elements are not a \(rows) × \(cols) matrix")
        }
        guard count <= BLAS.maxDimension else { throw .invalidShape("a \(rows) × \(cols) matrix exceeds the 32-bit LAPACK limit") }
        var copy = a
        return try LAPACK.singularValues(&copy, rows: rows, cols: cols)
    }

    static func largestOfBlock(_ a: UnsafeBufferPointer<Float>, rows: Int, cols: Int,
                               options: SpectralOptions, frobenius known: Double? = nil) throws(LinalgError) -> SpectralEstimate {
        let frobenius = known ?? Frobenius.norm(a)
        guard frobenius.isFinite, frobenius > 0 else {
            return SpectralEstimate(sigma: frobenius, iterations: 0, achievedTolerance: 0, method: .exact)
        }
        if options.exact || rows * cols <= options.exactThreshold || min(rows, cols) == 1 {
            if min(rows, cols) == 1 {  // a vector: σ = ‖a‖₂
                return SpectralEstimate(sigma: frobenius, iterations: 0, achievedTolerance: 0, method: .exact)
            }
            let sigma = try gramLargest(a, rows: rows, cols: cols)
            return SpectralEstimate(sigma: sigma, iterations: 0, achievedTolerance: 0, method: .exact)
        }
        return try lanczos(a, rows: rows, cols: cols, frobenius: frobenius, options: options)
    }
}
