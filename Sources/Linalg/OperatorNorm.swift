// The operator norm of a convolution with a certified interval.

public struct OperatorNormEstimate: Sendable, Equatable {
    /// Which proven bound `upper` is.
    public enum UpperMethod: String, Sendable {
        /// √c·σ_matrix (c = ``ConvGeometry/overlapCount``).
        case overlap
        /// The symbol bound of ``SymbolBound`` (exact circulant grid, eigenvalues).
        case symbol
        /// The symbol on the exact circulant grid, certified by Cholesky factorizations (``SymbolCertificate``).
        case certifiedExactGrid
        /// The symbol on a coarse grid with the smoothness correction of ``CertificationGrid``.
        case certifiedSmoothGrid
    }
    /// How `lower` was obtained.
    public enum LowerMethod: String, Sendable {
        /// Lanczos on AᵀA from a random start (`iterations` iterations).
        case lanczos
        /// The packet bound of ``PacketLowerBound`` (no product with A).
        case packet
        /// Lanczos started from the packet (`iterations` iterations), the larger of the two.
        case packetLanczos
    }
    public var lower: Double     // ≤ σ_op (Rayleigh quotient; see `lowerMethod`)
    public var upper: Double     // rigorous: min(√c·σ_matrix, symbol bound); `upperMethod` says which
    public var iterations: Int   // Lanczos iterations behind `lower` (0 for the packet bound alone)
    public var achievedTolerance: Double
    public var upperMethod: UpperMethod
    /// The symbol bound as computed (nil when it could not be), also when it lost to √c·σ_matrix or was
    /// rejected for contradicting `lower` (see ``OperatorNorm/convolution(_:matrixSigma:options:)``).
    public var symbolUpper: Double?
    public var lowerMethod: LowerMethod
    /// Frequencies at which the symbol was evaluated or certified (per group), 0 without a symbol bound.
    public var symbolPoints: Int
    /// The grid's correction factor 1/cos r (1 on the exact grid).
    public var symbolCorrection: Double

    public init(lower: Double, upper: Double, iterations: Int, achievedTolerance: Double,
                upperMethod: UpperMethod = .overlap, symbolUpper: Double? = nil,
                lowerMethod: LowerMethod = .lanczos, symbolPoints: Int = 0, symbolCorrection: Double = 1) {
        self.lower = lower; self.upper = upper; self.iterations = iterations; self.achievedTolerance = achievedTolerance
        self.upperMethod = upperMethod; self.symbolUpper = symbolUpper
        self.lowerMethod = lowerMethod; self.symbolPoints = symbolPoints; self.symbolCorrection = symbolCorrection
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
    /// σ_op of the convolution (batch 1) as a certified interval [lower, upper]. `matrixSigma` =
    /// σ_matrix of the reshaped weight (max over groups' blocks), used for the overlap bound.
    ///
    /// - upper = min of two proven bounds (`upperMethod` says which won):
    ///   (a) √c·matrixSigma with c = ``ConvGeometry/overlapCount``. Proof: A·x = [W_gr·P(x_gr)]_gr
    ///   with P the im2col map, so ‖A·x‖ ≤ σ_matrix·‖P(x)‖_F and ‖P(x)‖²_F = Σ_p x_p²·#windows(p)
    ///   ≤ c·‖x‖²; a ConvTranspose is the adjoint of such a Conv with the same blocks, and
    ///   ‖Aᵀ‖ = ‖A‖. Rigorous when `matrixSigma` ≥ σ_matrix (pass the exact or an upper value;
    ///   a Lanczos σ_matrix is low by ≈ its achieved tolerance).
    ///   (b) the symbol bound, for every convolution: on the exact circulant grid by eigenvalues
    ///   (``SymbolBound``) when that is estimated at ≤ `options.symbolFlopBudget` flops; otherwise
    ///   certified frequency by frequency with Cholesky factorizations (``SymbolCertificate``) on
    ///   the grid ``CertificationGrid/choose(_:spans:order:lagCount:groups:maxSlack:budget:)``
    ///   picks: the exact grid (no correction) or a coarse one whose largest value, times
    ///   1/cos r ≤ 1 + `options.symbolGridSlack`, bounds the symbol's maximum over the whole torus.
    ///   A symbol bound below lower·(1 − 1e-4) contradicts its theorem: it is then discarded
    ///   (upper = (a)) and stays visible in `symbolUpper`.
    /// - lower (`lowerMethod`): when 64 Lanczos iterations are estimated at ≤
    ///   `options.lanczosFlopBudget` flops, Golub–Kahan–Lanczos (``GolubKahanLanczos``, Krylov space of
    ///   AᵀA, products ``ConvOperator/apply(_:batch:into:)`` and ``ConvOperator/adjoint(_:batch:into:)``
    ///   in float32, the rest in float64, full reorthogonalization within ~256 MiB) from a seeded
    ///   random start to the relative change `options.operatorTolerance`; lower = ‖A·v‖/‖v‖ for the
    ///   final Ritz vector v (float32, relative error ≲ 1e-6). Otherwise the packet bound of
    ///   ``PacketLowerBound`` — ‖A·x‖/‖x‖ for a windowed plane wave at the best certified
    ///   frequency, evaluated from the Gram coefficients (relative margin ≲ 1e-9, no product with
    ///   A) — and, only while the certified symbol value is more than `options.operatorGap`
    ///   above it, the same Lanczos iteration started from the packet, stopped once the gap is
    ///   met; lower is the larger of the two.
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
        let grid = SymbolGrid(g)
        var bestGram: SymbolGram? = nil
        let symbol = symbolBound(op, grid: grid, options: options, keep: &bestGram)
        var estimate: OperatorNormEstimate
        if lanczosFlops(g) <= options.lanczosFlopBudget || grid.taps.isEmpty {
            estimate = lanczos(op, options: options, start: nil, stop: nil) ?? OperatorNormEstimate(
                lower: 0, upper: 0, iterations: 0, achievedTolerance: .infinity)
        } else {
            estimate = packetLower(op, grid: grid, symbol: symbol, gram: bestGram, options: options)
        }
        let (upper, method) = combine(lower: estimate.lower, overlap: overlap, symbol: symbol?.bound)
        estimate.upper = upper
        estimate.upperMethod = method == .symbol ? (symbol?.method ?? .symbol) : method
        estimate.symbolUpper = symbol?.bound
        estimate.symbolPoints = symbol?.points ?? 0
        estimate.symbolCorrection = symbol?.correction ?? 1
        return estimate
    }

    /// The symbol bound and where its largest value was met.
    struct Symbol {
        var bound: Double
        /// The largest certified (or computed) grid value, before the smooth-grid correction.
        var gridValue: Double
        var method: OperatorNormEstimate.UpperMethod
        var group: Int
        /// ω (radians per axis) of the largest value.
        var frequency: [Double]
        /// The top eigenvector of G there (p complex entries), when known.
        var vector: [Double]?
        var points: Int
        var correction: Double
    }

    /// (b) of ``convolution(_:matrixSigma:options:)``; `keep` receives the Gram of the group with the
    /// largest value (certified path only). nil when no bound could be formed. On the certified
    /// path the bound is max over groups of √(max b²) (``SymbolCertificate``) times the grid's
    /// correction 1/cos r (``CertificationGrid``) times 1 + 16u, which covers the rounding of the
    /// square root, of r = π·Σ τ_a/M_a, of cos and of the division (a few ulps each).
    static func symbolBound(_ op: ConvOperator, grid: SymbolGrid, options: SpectralOptions,
                            keep: inout SymbolGram?) -> Symbol? {
        let g = op.geometry
        if options.symbolFlopBudget > 0, SymbolBound.estimatedFlops(g, grid) <= options.symbolFlopBudget,
           let e = SymbolBound.evaluate(op, flopBudget: options.symbolFlopBudget) {
            let counts = grid.axes.map(\.frequencyCount)
            let omega = zip(e.point, counts).map { 2 * Double.pi * Double($0) / Double($1) }
            return Symbol(bound: e.bound, gridValue: e.bound, method: .symbol, group: e.group, frequency: omega,
                          vector: nil, points: grid.frequencyCount, correction: 1)
        }
        guard !grid.taps.isEmpty else {
            return Symbol(bound: 0, gridValue: 0, method: .certifiedExactGrid, group: 0, frequency: g.kernel.map { _ in 0 },
                          vector: nil, points: 0, correction: 1)
        }
        var chosen: CertificationGrid? = nil
        var squared = 0.0, best: (value: Double, group: Int, point: [Int], vector: [Double])? = nil
        for gr in 0..<g.groups {
            guard let gram = SymbolGram(op, grid: grid, group: gr) else { return nil }
            let cg = chosen ?? CertificationGrid.choose(grid, spans: gram.spans, order: gram.order, lagCount: gram.lags.count,
                                                        groups: g.groups, maxSlack: options.symbolGridSlack,
                                                        budget: options.symbolCertifyBudget)
            chosen = cg
            guard let outcome = try? SymbolCertificate.certify(gram, grid: cg, seed: options.seed, crew: options.crew) else { return nil }
            squared = max(squared, outcome.squaredBound)
            if best == nil || outcome.bestEstimate > (best?.value ?? 0) {
                best = (outcome.bestEstimate, gr, outcome.bestPoint, outcome.bestVector)
                keep = gram
            }
        }
        guard let cg = chosen, let b = best, squared.isFinite else { return nil }
        let value = squared.squareRoot()
        let omega = zip(b.point, cg.counts).map { 2 * Double.pi * Double($0) / Double($1) }
        return Symbol(bound: value * cg.correction * (1 + 16 * SymbolGram.unitRoundoff), gridValue: value,
                      method: cg.kind == .exact ? .certifiedExactGrid : .certifiedSmoothGrid, group: b.group,
                      frequency: omega, vector: b.vector, points: cg.points.count, correction: cg.correction)
    }

    /// The estimated flops of ``convolution(_:matrixSigma:options:)`` for this geometry, for
    /// scheduling layers largest first: the eigenvalue path's estimate
    /// (``SymbolBound/estimatedFlops(_:)``) or, on the certified path, the Gram coefficients
    /// (⌈|L|/2⌉ Gram products, 4·p²·q flops each, per group) plus the certification grid's
    /// factorizations and assemblies; plus the Lanczos iteration where the lower end still uses it.
    /// (VGG-19 at 224²: ≈ 2.6e10 for the 512-channel layers at 14² and 28², ≈ 1e9 for the
    /// 64-channel ones at 224² — the reverse of the old order by products with A.)
    public static func estimatedFlops(_ g: ConvGeometry, options: SpectralOptions = .init()) -> Double {
        let grid = SymbolGrid(g)
        var flops = lanczosFlops(g) <= options.lanczosFlopBudget ? lanczosFlops(g) : 0
        guard !grid.taps.isEmpty else { return flops }
        if options.symbolFlopBudget > 0, SymbolBound.estimatedFlops(g, grid) <= options.symbolFlopBudget {
            return flops + SymbolBound.estimatedFlops(g, grid)
        }
        let rows = g.smallChannels / g.groups, cols = g.bigChannels / g.groups * grid.phaseCount
        let p = Double(min(rows, cols)), q = Double(max(rows, cols))
        let spans = grid.axes.map { axis -> Int in
            let s = axis.taps.map(\.shift)
            return (s.max() ?? 0) - (s.min() ?? 0)
        }
        let lags = SymbolGram.halfBox(spans).count
        let evaluations = Double(spans.reduce(1) { $0 * (2 * $1 + 1) } / 2 + 1)
        let cg = CertificationGrid.choose(grid, spans: spans, order: Int(p), lagCount: lags, groups: g.groups,
                                          maxSlack: options.symbolGridSlack, budget: options.symbolCertifyBudget)
        flops += Double(g.groups) * evaluations * 4 * p * p * q
        flops += Double(g.groups) * Double(cg.points.count) * (4.0 / 3 * p * p * p + 4 * Double(lags) * p * p)
        return flops
    }

    /// Estimated flops of 64 Lanczos iterations (a product with A and one with Aᵀ each).
    static func lanczosFlops(_ g: ConvGeometry) -> Double {
        let windows = g.smallExtent.reduce(1.0) { $0 * Double($1) }
        return 64 * 2 * 2 * Double(g.weightCount) * windows
    }

    /// The packet lower end, refined by Lanczos from the packet while the gap to the symbol exceeds
    /// `options.operatorGap`.
    static func packetLower(_ op: ConvOperator, grid: SymbolGrid, symbol: Symbol?, gram kept: SymbolGram?,
                            options: SpectralOptions) -> OperatorNormEstimate {
        let g = op.geometry
        let group = symbol?.group ?? 0
        let gram = kept?.group == group ? kept : SymbolGram(op, grid: grid, group: group)
        let target = symbol.map { $0.gridValue / (1 + options.operatorGap) } ?? .infinity
        var packet: PacketLowerBound.Result? = nil
        if let gram {
            let start = symbol?.frequency ?? g.kernel.map { _ in 0 }
            let vector = symbol?.vector?.count == 2 * gram.order ? symbol?.vector : nil
            packet = try? PacketLowerBound.compute(gram, grid: grid, geometry: g, start: start, startVector: vector,
                                                   seed: options.seed, target: target)
        }
        let lowerP = packet?.lower ?? 0
        var estimate = OperatorNormEstimate(lower: lowerP, upper: 0, iterations: 0, achievedTolerance: 0, lowerMethod: .packet)
        guard !(lowerP >= target) else { return estimate }
        // Refine with Lanczos from the packet (or from a random start without one).
        var start: [Double]? = nil
        if let packet, let gram {
            let side = PacketLowerBound.realVector(packet, gram: gram, grid: grid, geometry: g)
            if (gram.side == .big) != g.transposed {
                start = side
            } else {
                let floats = side.map { Float($0) }
                start = op.adjoint(floats).map { Double($0) }
            }
        }
        guard let refined = lanczos(op, options: options, start: start, stop: { $0 >= target }) else { return estimate }
        if refined.lower > lowerP {
            estimate.lower = refined.lower
        }
        estimate.iterations = refined.iterations
        estimate.achievedTolerance = refined.achievedTolerance
        estimate.lowerMethod = packet == nil ? .lanczos : .packetLanczos
        return estimate
    }

    /// Golub–Kahan–Lanczos on A from `start` (nil: seeded random), lower = ‖A·v‖/‖v‖ of the final
    /// Ritz vector (float32). nil when the bidiagonal SVD fails (dbdsqr non-convergence).
    static func lanczos(_ op: ConvOperator, options: SpectralOptions, start: [Double]?,
                        stop: ((Double) -> Bool)?) -> OperatorNormEstimate? {
        let g = op.geometry
        let m = g.outputCount, n = g.inputCount
        let xs = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(m, n))
        let ys = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(m, n))
        defer { xs.deallocate(); ys.deallocate() }
        let budget = (256 << 20) / (8 * (m + n))
        var engine = GolubKahanLanczos(m: m, n: n, tolerance: options.operatorTolerance,
                                       maxIterations: max(1, options.maxIterations),
                                       maxBasis: min(max(2, budget), options.maxIterations + 1),
                                       seed: options.seed, wantVector: true)
        engine.start = start
        engine.stop = stop
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
            return nil
        }
        // lower = ‖A·v‖/‖v‖ with v as applied (float32).
        var lower = result.sigma
        if result.vector.count == n {
            for j in 0..<n { xs[j] = Float(result.vector[j]) }
            op.apply(inN, batch: 1, into: outM)
            let vNorm = Frobenius.norm(inN)
            if vNorm > 0 { lower = Frobenius.norm(UnsafeBufferPointer(outM)) / vNorm }
        }
        return OperatorNormEstimate(lower: lower, upper: 0, iterations: result.iterations,
                                    achievedTolerance: result.achievedTolerance, lowerMethod: .lanczos)
    }

    /// upper = min(overlap, symbol), except that a missing, non-finite or negative symbol bound, or one
    /// below lower·(1 − 1e-4) (impossible for a correct bound), is ignored.
    static func combine(lower: Double, overlap: Double, symbol: Double?) -> (Double, OperatorNormEstimate.UpperMethod) {
        guard let s = symbol, s.isFinite, s >= 0, !(s < lower * (1 - 1e-4)) else { return (overlap, .overlap) }
        return overlap.isNaN || s < overlap ? (s, .symbol) : (overlap, .overlap)
    }
}
