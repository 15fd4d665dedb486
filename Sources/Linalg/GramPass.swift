// The fused, scaled Gram product AᵀA·X of both dense Lanczos paths: one pass over A.

/// out = AᵀA·X for the b row vectors of X (float64, b × n), A a dense row-major float32 m × n
/// block used in place.
///
/// The pass streams A once, in row panels P of ``SpectralNorm/panelRows(rows:cols:)`` whole
/// rows (contiguous, ≤ 1 MiB, so P stays in L2 between its two uses): Y = P·Xᵀ, then Wᵀ += Yᵀ·P.
/// b = 1 uses `sgemv` twice, b > 1 `sgemm` with n = b and m = b (for b = 2 about the cost of one
/// `sgemv` pair: the pass stays memory-bound).
///
/// Accumulation. Rows are taken in groups of ``SpectralNorm/flushRows`` (whole panels); a group's
/// contributions W_g are summed in float32, the groups in float64 and in group order, so the
/// result is the same whichever thread computed which group: the groups are the chunks that a
/// ``PassCrew`` shares out (each group writes its own W_g; its Y scratch is its own temporary).
/// Groups are whole panels of ≥ 256 rows where a panel is shorter, else one panel, so the
/// partials take at most b·n·4 bytes per 256 rows (b/256 of A's bytes) when rows are ≤ 1 MiB.
///
/// Scaling. X is converted to float32 as s·X and Y as s·(P·Xᵀ), s = 2^e ≈ √max(m, n)/‖A‖_F exact
/// (|e| ≤ 126, ``SpectralNorm/passScaling(rows:cols:frobenius:)``): with unit vectors every float32
/// partial sum of Y is ≤ ‖A‖_F·s ≲ 2√max(m, n) and of W ≤ ‖A‖_F·‖Y‖ ≲ 4·max(m, n), so there is no
/// overflow even for weights near the float32 limit; AᵀA·X = W/s² in float64.
struct GramPass {
    let base: UnsafePointer<Float>
    let rows: Int, cols: Int, vectors: Int
    let panel: Int, group: Int, groups: Int
    let scale: Float, inverseSquare: Double
    /// s·X in float32 (b × n).
    let xs: UnsafeMutablePointer<Float>
    /// W_g of every group (groups × b × n float32).
    let partials: UnsafeMutablePointer<Float>

    init(_ base: UnsafePointer<Float>, rows: Int, cols: Int, vectors b: Int, frobenius: Double) {
        self.base = base; self.rows = rows; self.cols = cols; vectors = b
        let (_, inverseSquare, scale) = SpectralNorm.passScaling(rows: rows, cols: cols, frobenius: frobenius)
        self.scale = scale; self.inverseSquare = inverseSquare
        panel = SpectralNorm.panelRows(rows: rows, cols: cols)
        group = max(1, SpectralNorm.flushRows / panel) * panel
        groups = (rows + group - 1) / group
        xs = .allocate(capacity: b * cols)
        partials = .allocate(capacity: groups * b * cols)
    }

    func deallocate() { xs.deallocate(); partials.deallocate() }

    /// out = AᵀA·V for the b rows of V (b × n float64 each); idle members of `crew` take groups.
    func apply(_ v: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, crew: PassCrew?) {
        let b = vectors, count = b * cols
        let s = Double(scale)
        for j in 0..<count { xs[j] = Float(v[j] * s) }
        PassCrew.run(crew, chunks: groups) { g in accumulate(group: g) }
        for j in 0..<count { out[j] = 0 }
        for g in 0..<groups {
            let w = partials + g * count
            for j in 0..<count { out[j] += Double(w[j]) }
        }
        for j in 0..<count { out[j] *= inverseSquare }
    }

    /// W_g = Σ over the panels P of group g of Pᵀ·(s·P·Xᵀ), in float32.
    private func accumulate(group g: Int) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: panel * vectors) { scratch in
            if let y = scratch.baseAddress { accumulate(group: g, y: y) }
        }
    }

    /// Y (panel × b) is written with beta = 0 before each use: its previous contents never matter.
    private func accumulate(group g: Int, y: UnsafeMutablePointer<Float>) {
        let b = vectors
        let w = partials + g * b * cols
        let start = g * group, end = min(rows, start + group)
        var i = start
        while i < end {
            let h = min(panel, end - i), p = base + i * cols
            // alpha = 1 and the scaling by s on Y: OpenBLAS kernels may apply alpha to x first.
            if b == 1 {
                BLAS.sgemv(trans: false, m: h, n: cols, alpha: 1, a: p, lda: cols, x: xs, beta: 0, y: y)
                for r in 0..<h { y[r] *= scale }
                BLAS.sgemv(trans: true, m: h, n: cols, alpha: 1, a: p, lda: cols, x: y, beta: i == start ? 0 : 1, y: w)
            } else {
                BLAS.sgemm(transA: false, transB: true, m: h, n: b, k: cols, alpha: 1, a: p, lda: cols,
                           b: xs, ldb: cols, beta: 0, c: y, ldc: b)
                for r in 0..<(h * b) { y[r] *= scale }
                BLAS.sgemm(transA: true, transB: false, m: b, n: cols, k: h, alpha: 1, a: y, lda: b,
                           b: p, ldb: cols, beta: i == start ? 0 : 1, c: w, ldc: cols)
            }
            i += h
        }
    }
}
