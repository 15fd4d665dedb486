// The linear map of a Conv / ConvTranspose and its adjoint, by im2col + sgemm and col2im.
import Dispatch
import Foundation

/// The linear map of a Conv (bias excluded) or ConvTranspose, with its adjoint, by im2col + sgemm and col2im.
/// Weight layout is ONNX's: Conv (M, C/g, k…), ConvTranspose (C, M/g, k…). Batched over N.
///
/// With the big/small sides of ``ConvGeometry`` and per group gr the weight block
/// W_gr = (S/g) × (B/g·K) (rows of the ONNX weight, contiguous), the two primitive maps are
///   gather:  small_gr = W_gr · P(big_gr)        (im2col, then `sgemm`)
///   scatter: big_gr   = Pᵀ(W_grᵀ · small_gr)    (`sgemm` with Aᵀ, then col2im)
/// which are adjoint to each other. Conv applies gather and its adjoint is scatter; ConvTranspose
/// applies scatter and its adjoint is gather. The column matrix of one group covers all L windows
/// when it fits 16 MiB, else near-equal tiles of windows that do; a 1×…×1, stride-1, unpadded
/// kernel skips im2col entirely. A batched scatter with whole-image columns packs several items
/// side by side (up to 4 MiB of columns) so one sgemm serves them. im2col / col2im are split over
/// min(BLAS threads, cores) threads (DispatchQueue.concurrentPerform) when the column matrix has
/// ≥ 32 Ki floats: the sgemm uses those cores too, so the data movement should as well.
/// Data are NCHW-style: item n, channel c, spatial positions row-major.
///
/// Memory: the operator keeps `weight.baseAddress` without copying and retains `owner`, the
/// object whose lifetime keeps that memory valid and unchanged (a tensor's ``FloatBuffer``). The operator is immutable and each
/// call allocates its own scratch, so concurrent calls are safe (hence `@unchecked Sendable`).
/// Scratch per call: at most 16 MiB of columns (or one B/g·K-float column if a single one is
/// larger) plus, for packed adjoint items, at most 4 MiB of packed small-side data: ≤ 20 MiB.
public final class ConvOperator: @unchecked Sendable {
    public let geometry: ConvGeometry
    /// The ONNX weight (not owned; see "Memory" above). Internal: read by ``SymbolBound``.
    let weight: UnsafePointer<Float>
    /// Keeps the memory behind `weight` alive (see "Memory" above).
    private let owner: AnyObject?
    private let windows: Windows
    /// Channels per group on each side and the im2col row count B/g·K.
    private let smallPerGroup: Int, bigPerGroup: Int, rowsPerGroup: Int
    /// Column tile width (windows per sgemm call): all L windows when the column matrix of one
    /// group fits ``columnBudget``, else L split into near-equal tiles that do.
    private let tile: Int
    /// Items per sgemm in the scatter (1 unless one tile covers all windows; then as many items
    /// as fit ``packBudget`` side by side, for both the column matrix and the packed small-side
    /// block, capped by ``maxScatterItems``).
    private let scatterItems: Int

    /// Floats of the column matrix of one tile (16 MiB): the column buffer of one call.
    static let columnBudget = 1 << 22
    /// Floats of the packed multi-item adjoint sgemm's column matrix (4 MiB, so the sgemm output
    /// is still in cache for col2im). Measured (OpenBLAS, 2 threads): a 10-item AlexNet adjoint
    /// sgemm with a 15–42 MB output ran at 55–70 GFLOP/s where the per-item ones ran at 82–87.
    static let packBudget = 1 << 20
    static let maxScatterItems = 16
    /// Column-matrix floats from which im2col/col2im are split over threads.
    static let parallelMinimum = 1 << 15

    /// ‖W‖_F of the weight tensor (float64 accumulation).
    public var weightFrobenius: Double {
        Frobenius.norm(UnsafeBufferPointer(start: weight, count: geometry.weightCount))
    }

    /// Validates the geometry (``ConvGeometry/validate()``) and `weight.count == geometry.weightCount`.
    ///
    /// `owner` is retained for the operator's lifetime and must keep `weight`'s memory valid
    /// and unchanged (pass the tensor's ``FloatBuffer``). Pass nil only when the operator is
    /// used and released inside the scope that lends `weight` (`withUnsafeBufferPointer`).
    public convenience init(geometry: ConvGeometry, weight: UnsafeBufferPointer<Float>, owner: AnyObject?) throws(LinalgError) {
        try self.init(geometry: geometry, weight: weight, owner: owner, columnBudget: ConvOperator.columnBudget)
    }

    /// An operator over its own copy of `weight` (tests, benchmarks, small weights).
    public convenience init(geometry: ConvGeometry, copying weight: [Float]) throws(LinalgError) {
        let copy = CopiedWeight(weight)
        try self.init(geometry: geometry, weight: copy.buffer, owner: copy, columnBudget: ConvOperator.columnBudget)
    }

    /// As ``init(geometry:copying:)``, with the column buffer budget (floats) as a parameter.
    convenience init(geometry: ConvGeometry, copying weight: [Float], columnBudget: Int) throws(LinalgError) {
        let copy = CopiedWeight(weight)
        try self.init(geometry: geometry, weight: copy.buffer, owner: copy, columnBudget: columnBudget)
    }

    /// As the public init, with the column buffer budget (floats) as a parameter (tests force tiling with it).
    init(geometry: ConvGeometry, weight: UnsafeBufferPointer<Float>, owner: AnyObject? = nil, columnBudget: Int) throws(LinalgError) {
        try geometry.validate()
        self.owner = owner
        guard weight.count == geometry.weightCount, let base = weight.baseAddress else {
            throw .invalidShape("convolution weight has \(weight.count) elements, shape \(geometry.weightShape) needs \(geometry.weightCount)")
        }
        self.geometry = geometry
        self.weight = base
        windows = Windows(geometry)
        smallPerGroup = geometry.smallChannels / geometry.groups
        bigPerGroup = geometry.bigChannels / geometry.groups
        rowsPerGroup = bigPerGroup * windows.taps
        let l = windows.windows, rows = max(rowsPerGroup, 1)
        let maxColumns = max(1, columnBudget / rows)
        let tiles = (l + maxColumns - 1) / maxColumns
        tile = max(1, (l + tiles - 1) / tiles)
        scatterItems = tile == l ? max(1, min(ConvOperator.maxScatterItems, ConvOperator.packBudget / (max(rows, smallPerGroup) * l))) : 1
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
        let items = gather || windows.isIdentity ? 1 : min(usable, scatterItems)
        let scratch = windows.isIdentity ? 0 : rowsPerGroup * max(tile, items * windows.windows)
        let packed = items > 1 ? smallPerGroup * items * windows.windows : 0
        let col = UnsafeMutablePointer<Float>.allocate(capacity: max(scratch + packed, 1))
        defer { col.deallocate() }
        let workers = rowsPerGroup * tile >= ConvOperator.parallelMinimum
            ? max(1, min(BLAS.threads, ProcessInfo.processInfo.activeProcessorCount)) : 1
        if gather {
            for n in 0..<usable {
                let s = srcBase + n * inCount, d = dstBase + n * outCount
                for gr in 0..<geometry.groups { gatherGroup(gr, big: s, small: d, col: col, workers: workers) }
            }
            return
        }
        var n0 = 0
        while n0 < usable {
            let k = min(items, usable - n0)
            for gr in 0..<geometry.groups {
                scatterGroup(gr, items: k, small: srcBase + n0 * inCount, smallStride: inCount,
                             big: dstBase + n0 * outCount, bigStride: outCount,
                             col: col, packed: col + scratch, workers: workers)
            }
            n0 += k
        }
    }

    /// The p-th of `parts` near-equal contiguous pieces of 0..<n.
    @inline(__always)
    private static func piece(_ p: Int, of parts: Int, _ n: Int) -> Range<Int> {
        (p * n / parts)..<((p + 1) * n / parts)
    }

    /// col ← P(big_gr) for windows l0..<l1 (row stride l1 − l0), rows split over `workers` threads.
    private func im2col(_ bg: UnsafePointer<Float>, l0: Int, l1: Int, col: UnsafeMutablePointer<Float>, workers: Int) {
        let rows = rowsPerGroup, w = windows
        Parallel.forEach(workers, workers: workers) { p in
            w.im2col(bg, l0: l0, l1: l1, into: col, ld: l1 - l0, rows: ConvOperator.piece(p, of: workers, rows))
        }
    }

    /// big_gr (+)= Pᵀ(col) for windows l0..<l1 (row stride ld), split over `workers` threads by
    /// channel when there are enough channels, else by big-side lines (disjoint writes either way).
    private func col2im(_ col: UnsafePointer<Float>, l0: Int, l1: Int, ld: Int, big bg: UnsafeMutablePointer<Float>,
                        zero: Bool, workers: Int) {
        let w = windows, channels = bigPerGroup
        if workers <= 1 {
            w.col2im(col, l0: l0, l1: l1, ld: ld, adding: bg, channels: 0..<channels, lines: 0..<w.bigRows, zero: zero)
        } else if channels >= 2 * workers {
            Parallel.forEach(workers, workers: workers) { p in
                w.col2im(col, l0: l0, l1: l1, ld: ld, adding: bg, channels: ConvOperator.piece(p, of: workers, channels),
                         lines: 0..<w.bigRows, zero: zero)
            }
        } else {
            Parallel.forEach(workers, workers: workers) { p in
                w.col2im(col, l0: l0, l1: l1, ld: ld, adding: bg, channels: 0..<channels,
                         lines: ConvOperator.piece(p, of: workers, w.bigRows), zero: zero)
            }
        }
    }

    /// small_gr = W_gr · P(big_gr) for one item.
    private func gatherGroup(_ gr: Int, big: UnsafePointer<Float>, small: UnsafeMutablePointer<Float>,
                             col: UnsafeMutablePointer<Float>, workers: Int) {
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
            im2col(bg, l0: l0, l1: l1, col: col, workers: workers)
            BLAS.sgemm(transA: false, transB: false, m: smallPerGroup, n: t, k: rowsPerGroup, alpha: 1,
                       a: w, lda: rowsPerGroup, b: col, ldb: t, beta: 0, c: sg + l0, ldc: l)
            l0 = l1
        }
    }

    /// big_gr = Pᵀ(W_grᵀ · small_gr) for `items` consecutive items (big_gr overwritten); item i's
    /// data start at small + i·smallStride and big + i·bigStride. With items > 1 (only when one
    /// tile covers all windows) the items' small_gr blocks are packed side by side into `packed`
    /// (S/g × items·L) so one sgemm serves them all; col is then (B/g·K) × items·L.
    private func scatterGroup(_ gr: Int, items: Int, small: UnsafePointer<Float>, smallStride: Int,
                              big: UnsafeMutablePointer<Float>, bigStride: Int,
                              col: UnsafeMutablePointer<Float>, packed: UnsafeMutablePointer<Float>, workers: Int) {
        let w = weight + gr * smallPerGroup * rowsPerGroup
        let bigOffset = gr * bigPerGroup * windows.bigCount, smallOffset = gr * smallPerGroup * windows.windows
        let l = windows.windows
        if windows.isIdentity {
            for i in 0..<items {
                BLAS.sgemm(transA: true, transB: false, m: rowsPerGroup, n: l, k: smallPerGroup, alpha: 1,
                           a: w, lda: rowsPerGroup, b: small + i * smallStride + smallOffset, ldb: l, beta: 0,
                           c: big + i * bigStride + bigOffset, ldc: l)
            }
            return
        }
        if items > 1 {
            let width = items * l
            for i in 0..<items {
                let s = small + i * smallStride + smallOffset
                for r in 0..<smallPerGroup { (packed + r * width + i * l).update(from: s + r * l, count: l) }
            }
            BLAS.sgemm(transA: true, transB: false, m: rowsPerGroup, n: width, k: smallPerGroup, alpha: 1,
                       a: w, lda: rowsPerGroup, b: packed, ldb: width, beta: 0, c: col, ldc: width)
            for i in 0..<items {
                col2im(col + i * l, l0: 0, l1: l, ld: width, big: big + i * bigStride + bigOffset, zero: true,
                       workers: workers)
            }
            return
        }
        let sg = small + smallOffset, bg = big + bigOffset
        var l0 = 0
        while l0 < l {
            let l1 = min(l, l0 + tile), t = l1 - l0
            BLAS.sgemm(transA: true, transB: false, m: rowsPerGroup, n: t, k: smallPerGroup, alpha: 1,
                       a: w, lda: rowsPerGroup, b: sg + l0, ldb: l, beta: 0, c: col, ldc: t)
            col2im(col, l0: l0, l1: l1, ld: t, big: bg, zero: l0 == 0, workers: workers)
            l0 = l1
        }
    }
}

/// Heap memory holding a copy of a weight for ``ConvOperator/init(geometry:copying:)``.
final class CopiedWeight: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<Float>

    init(_ values: [Float]) {
        let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(values.count, 1))
        _ = p.initialize(from: values)
        buffer = UnsafeBufferPointer(rebasing: UnsafeBufferPointer(p)[0..<values.count])
    }

    deinit { UnsafeMutableBufferPointer(mutating: buffer).deallocate() }
}
