// The linear map of a Conv / ConvTranspose and its adjoint, by im2col + sgemm and col2im.

/// The linear map of a Conv (bias excluded) or ConvTranspose, with its adjoint, by im2col + sgemm and col2im.
/// Weight layout is ONNX's: Conv (M, C/g, k…), ConvTranspose (C, M/g, k…). Batched over N.
///
/// With the big/small sides of ``ConvGeometry`` and per group gr the weight block
/// W_gr = (S/g) × (B/g·K) (rows of the ONNX weight, contiguous), the two primitive maps are
///   gather:  small_gr = W_gr · P(big_gr)        (im2col, then `sgemm`)
///   scatter: big_gr   = Pᵀ(W_grᵀ · small_gr)    (`sgemm` with Aᵀ, then col2im)
/// which are adjoint to each other. Conv applies gather and its adjoint is scatter; ConvTranspose
/// applies scatter and its adjoint is gather. Columns are processed in tiles so the column
/// buffer stays near 4 MiB; a 1×…×1, stride-1, unpadded kernel skips im2col entirely.
/// Data are NCHW-style: item n, channel c, spatial positions row-major.
///
/// Memory: the operator keeps `weight.baseAddress` without copying; the caller must keep that
/// memory alive and unchanged for the operator's lifetime. The operator is immutable and each
/// call allocates its own scratch, so concurrent calls are safe (hence `@unchecked Sendable`).
public final class ConvOperator: @unchecked Sendable {
    public let geometry: ConvGeometry
    /// The ONNX weight (not owned; see "Memory" above). Internal: read by ``SymbolBound``.
    let weight: UnsafePointer<Float>
    private let windows: Windows
    /// Channels per group on each side and the im2col row count B/g·K.
    private let smallPerGroup: Int, bigPerGroup: Int, rowsPerGroup: Int
    /// Column tile width (windows per sgemm call).
    private let tile: Int

    /// ‖W‖_F of the weight tensor (float64 accumulation).
    public var weightFrobenius: Double {
        Frobenius.norm(UnsafeBufferPointer(start: weight, count: geometry.weightCount))
    }

    /// Validates the geometry (``ConvGeometry/validate()``) and `weight.count == geometry.weightCount`.
    public init(geometry: ConvGeometry, weight: UnsafeBufferPointer<Float>) throws(LinalgError) {
        try geometry.validate()
        guard weight.count == geometry.weightCount, let base = weight.baseAddress else {
            throw .invalidShape("convolution weight has \(weight.count) elements, shape \(geometry.weightShape) needs \(geometry.weightCount)")
        }
        self.geometry = geometry
        self.weight = base
        windows = Windows(geometry)
        smallPerGroup = geometry.smallChannels / geometry.groups
        bigPerGroup = geometry.bigChannels / geometry.groups
        rowsPerGroup = bigPerGroup * windows.taps
        tile = max(1, min(windows.windows, (1 << 20) / max(rowsPerGroup, 1)))
    }

    /// y = A x for `batch` items: x has batch*inputCount floats, y batch*outputCount (overwritten).
    /// Items for which x or y is too short are not computed; their available y entries are set to NaN.
    public func apply(_ x: UnsafeBufferPointer<Float>, batch: Int, into y: UnsafeMutableBufferPointer<Float>) {
        run(x, batch: batch, into: y, inCount: geometry.inputCount, outCount: geometry.outputCount,
            gather: !geometry.transposed)
    }

    /// x = Aᵀ y (the vector-Jacobian product with respect to the input), batched.
    /// Items for which y or x is too short are not computed; their available x entries are set to NaN.
    public func adjoint(_ y: UnsafeBufferPointer<Float>, batch: Int, into x: UnsafeMutableBufferPointer<Float>) {
        run(y, batch: batch, into: x, inCount: geometry.outputCount, outCount: geometry.inputCount,
            gather: geometry.transposed)
    }

    /// y = A x; x holds batch·inputCount floats.
    public func apply(_ x: [Float], batch: Int = 1) -> [Float] {
        var y = [Float](repeating: 0, count: max(0, batch) * geometry.outputCount)
        x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { apply(xb, batch: batch, into: $0) } }
        return y
    }

    /// x = Aᵀ y; y holds batch·outputCount floats.
    public func adjoint(_ y: [Float], batch: Int = 1) -> [Float] {
        var x = [Float](repeating: 0, count: max(0, batch) * geometry.inputCount)
        y.withUnsafeBufferPointer { yb in x.withUnsafeMutableBufferPointer { adjoint(yb, batch: batch, into: $0) } }
        return x
    }

    private func run(_ src: UnsafeBufferPointer<Float>, batch: Int, into dst: UnsafeMutableBufferPointer<Float>,
                     inCount: Int, outCount: Int, gather: Bool) {
        guard batch > 0, let dstBase = dst.baseAddress else { return }
        let usable = min(batch, src.count / inCount, dst.count / outCount)
        if usable < batch {
            for i in (usable * outCount)..<min(dst.count, batch * outCount) { dst[i] = .nan }
        }
        guard usable > 0, let srcBase = src.baseAddress else { return }
        let scratch = windows.isIdentity ? 0 : rowsPerGroup * tile
        let col = UnsafeMutablePointer<Float>.allocate(capacity: max(scratch, 1))
        defer { col.deallocate() }
        for n in 0..<usable {
            let s = srcBase + n * inCount, d = dstBase + n * outCount
            for gr in 0..<geometry.groups {
                if gather { gatherGroup(gr, big: s, small: d, col: col) } else { scatterGroup(gr, small: s, big: d, col: col) }
            }
        }
    }

    /// small_gr = W_gr · P(big_gr) for one item.
    private func gatherGroup(_ gr: Int, big: UnsafePointer<Float>, small: UnsafeMutablePointer<Float>,
                             col: UnsafeMutablePointer<Float>) {
        let w = weight + gr * smallPerGroup * rowsPerGroup
        let bg = big + gr * bigPerGroup * windows.bigCount
        let sg = small + gr * smallPerGroup * windows.windows
        let l = windows.windows
        if windows.isIdentity {
            BLAS.sgemm(transA: false, transB: false, m: smallPerGroup, n: l, k: rowsPerGroup, alpha: 1,
                       a: w, lda: rowsPerGroup, b: bg, ldb: l, beta: 0, c: sg, ldc: l)
            return
        }
        var l0 = 0
        while l0 < l {
            let l1 = min(l, l0 + tile), t = l1 - l0
            windows.im2col(bg, channels: bigPerGroup, l0: l0, l1: l1, into: col)
            BLAS.sgemm(transA: false, transB: false, m: smallPerGroup, n: t, k: rowsPerGroup, alpha: 1,
                       a: w, lda: rowsPerGroup, b: col, ldb: t, beta: 0, c: sg + l0, ldc: l)
            l0 = l1
        }
    }

    /// big_gr = Pᵀ(W_grᵀ · small_gr) for one item (big_gr overwritten).
    private func scatterGroup(_ gr: Int, small: UnsafePointer<Float>, big: UnsafeMutablePointer<Float>,
                              col: UnsafeMutablePointer<Float>) {
        let w = weight + gr * smallPerGroup * rowsPerGroup
        let bg = big + gr * bigPerGroup * windows.bigCount
        let sg = small + gr * smallPerGroup * windows.windows
        let l = windows.windows
        if windows.isIdentity {
            BLAS.sgemm(transA: true, transB: false, m: rowsPerGroup, n: l, k: smallPerGroup, alpha: 1,
                       a: w, lda: rowsPerGroup, b: sg, ldb: l, beta: 0, c: bg, ldc: l)
            return
        }
        bg.update(repeating: 0, count: bigPerGroup * windows.bigCount)
        var l0 = 0
        while l0 < l {
            let l1 = min(l, l0 + tile), t = l1 - l0
            BLAS.sgemm(transA: true, transB: false, m: rowsPerGroup, n: t, k: smallPerGroup, alpha: 1,
                       a: w, lda: rowsPerGroup, b: sg + l0, ldb: l, beta: 0, c: col, ldc: t)
            windows.col2im(col, channels: bigPerGroup, l0: l0, l1: l1, adding: bg)
            l0 = l1
        }
    }
}
