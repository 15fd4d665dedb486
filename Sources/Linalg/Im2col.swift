// im2col / col2im for spatial rank 1–3: the data movement behind ConvOperator.

/// The window structure of a ``ConvGeometry`` padded to rank 3 (leading axes of extent 1,
/// kernel 1, stride 1, dilation 1, pad 0), with the im2col gather and its adjoint col2im scatter.
///
/// Column matrix layout (row-major, one group of `channels` big-side channels, columns l0..<l1
/// of the L = Π small-extent windows, row stride `ld` ≥ l1 − l0): row r = c·K + j (j the
/// flattened kernel tap, K = Π k), column l − l0, so col[r·ld + (l − l0)] = x[c, p(l, j)] with
/// p_a = o_a·s_a + j_a·d_a − padsBegin_a, zero when p falls outside the big extent.
/// im2col is the matrix P(x); col2im computes Pᵀ(col) (adds each entry back to its position).
///
/// Both take a sub-range of the work so callers can split one call over threads without
/// races: im2col a range of column-matrix rows (disjoint writes to col), col2im a range of
/// channels and a range of big-side "rows" (flattened positions along all but the last axis;
/// disjoint writes to x). Within one big position the taps are always added in the same order
/// (channel-major, tap-minor, window-ascending), whatever the split, so results do not depend on it.
struct Windows: Sendable {
    let big: [Int], small: [Int], kernel: [Int], stride: [Int], dilation: [Int], pad: [Int]
    /// Π kernel, Π small extent (windows), Π big extent.
    let taps: Int, windows: Int, bigCount: Int
    /// big[0]·big[1]: the number of last-axis lines of one big-side channel.
    let bigRows: Int

    init(_ g: ConvGeometry) {
        func pad3(_ v: [Int], _ fill: Int) -> [Int] { [Int](repeating: fill, count: 3 - v.count) + v }
        big = pad3(g.bigExtent, 1); small = pad3(g.smallExtent, 1); kernel = pad3(g.kernel, 1)
        stride = pad3(g.strides, 1); dilation = pad3(g.dilations, 1); pad = pad3(g.padsBegin, 0)
        taps = kernel.reduce(1, *); windows = small.reduce(1, *); bigCount = big.reduce(1, *)
        bigRows = big[0] * big[1]
    }

    /// True when P is the identity (1×…×1 kernel, unit strides, no begin padding, equal extents):
    /// then the column matrix of a group is its input slice itself.
    var isIdentity: Bool {
        taps == 1 && stride.allSatisfy { $0 == 1 } && pad.allSatisfy { $0 == 0 } && big == small
    }

    /// Visits, for the flattened kernel taps `tapRange` of one channel and the window range
    /// l0..<l1, each run of consecutive windows along the last axis: body(tap, firstColumn,
    /// count, line) with line = p0·big[1] + p1 the big-side line the run reads (−1 when it lies
    /// in the padding), p2 start = o2·s2 + j2·d2 − pad2 and p2 step = s2 given separately.
    /// The window multi-index is advanced incrementally (no division per run).
    @inline(__always)
    private func forEachRun(taps tapRange: Range<Int>, l0: Int, l1: Int,
                            _ body: (_ j: Int, _ col: Int, _ count: Int, _ line: Int, _ p2: Int) -> Void) {
        let (s1, s2) = (small[1], small[2])
        let (k1, k2) = (kernel[1], kernel[2])
        let (b0, b1) = (big[0], big[1])
        let (st0, st1, st2) = (stride[0], stride[1], stride[2])
        guard l0 < l1 else { return }
        let start2 = l0 % s2, start01 = l0 / s2, start1 = start01 % s1, start0 = start01 / s1
        for j in tapRange {
            let j2 = j % k2, j12 = j / k2, j1 = j12 % k1, j0 = j12 / k1
            let off0 = j0 * dilation[0] - pad[0], off1 = j1 * dilation[1] - pad[1]
            let off2 = j2 * dilation[2] - pad[2]
            var l = l0, o2 = start2, o1 = start1, o0 = start0
            while l < l1 {
                let n = min(s2 - o2, l1 - l)
                let p0 = o0 * st0 + off0, p1 = o1 * st1 + off1
                let inside = p0 >= 0 && p0 < b0 && p1 >= 0 && p1 < b1
                body(j, l - l0, n, inside ? p0 * b1 + p1 : -1, o2 * st2 + off2)
                l += n
                o2 = 0; o1 += 1
                if o1 == s1 { o1 = 0; o0 += 1 }
            }
        }
    }

    /// The q in [lo, hi) ⊆ [0, count) with 0 ≤ p2 + q·step < b2.
    @inline(__always)
    private static func validRange(p2: Int, step: Int, count: Int, b2: Int) -> (Int, Int) {
        if step == 1 { return (min(count, max(0, -p2)), max(min(count, max(0, -p2)), min(count, b2 - p2))) }
        let lo = p2 < 0 ? min(count, (step - 1 - p2) / step) : 0
        let hi = p2 >= b2 ? 0 : min(count, (b2 - 1 - p2) / step + 1)
        return (lo, max(lo, hi))
    }

    /// Rows `rows` (r = c·K + j, c < `channels`) of col ← P(x) for windows l0..<l1; x holds the
    /// group's channels (each `bigCount` floats), col has row stride `ld`.
    func im2col(_ x: UnsafePointer<Float>, l0: Int, l1: Int, into col: UnsafeMutablePointer<Float>, ld: Int,
                rows: Range<Int>) {
        let b2 = big[2], step = stride[2]
        var r = rows.lowerBound
        while r < rows.upperBound {
            let c = r / taps, jStart = r % taps, jEnd = min(taps, jStart + rows.upperBound - r)
            let xc = x + c * bigCount
            let rowBase = col + c * taps * ld
            forEachRun(taps: jStart..<jEnd, l0: l0, l1: l1) { j, column, count, line, p2 in
                let out = rowBase + j * ld + column
                guard line >= 0 else {
                    out.update(repeating: 0, count: count)
                    return
                }
                let (lo, hi) = Windows.validRange(p2: p2, step: step, count: count, b2: b2)
                if lo > 0 { out.update(repeating: 0, count: lo) }
                if hi > lo {
                    let src = xc + (line * b2 + p2 + lo * step)
                    let dst = out + lo
                    if step == 1 {
                        dst.update(from: src, count: hi - lo)
                    } else {
                        var p = src
                        for q in 0..<(hi - lo) { dst[q] = p.pointee; p += step }
                    }
                }
                if hi < count { (out + hi).update(repeating: 0, count: count - hi) }
            }
            r += jEnd - jStart
        }
    }

    /// x ← x + Pᵀ(col) restricted to channels `channels` and big-side lines `lines`
    /// (0..<bigRows) of each: scatter-add the column matrix (row stride `ld`) of windows l0..<l1.
    /// With `zero`, those lines of x are first set to 0 (x ← Pᵀ(col)).
    func col2im(_ col: UnsafePointer<Float>, l0: Int, l1: Int, ld: Int, adding x: UnsafeMutablePointer<Float>,
                channels: Range<Int>, lines: Range<Int>, zero: Bool) {
        let b2 = big[2], step = stride[2]
        let all = lines == 0..<bigRows
        for c in channels {
            let xc = x + c * bigCount
            if zero { (xc + lines.lowerBound * b2).update(repeating: 0, count: lines.count * b2) }
            let rowBase = col + c * taps * ld
            forEachRun(taps: 0..<taps, l0: l0, l1: l1) { j, column, count, line, p2 in
                guard line >= 0, all || lines.contains(line) else { return }
                let (lo, hi) = Windows.validRange(p2: p2, step: step, count: count, b2: b2)
                guard hi > lo else { return }
                let src = rowBase + (j * ld + column + lo)
                let dst = xc + (line * b2 + p2 + lo * step)
                let n = hi - lo
                if step == 1 {
                    // Runs are short (one output row): 4-wide unaligned SIMD, then < 4 scalars.
                    var q = 0
                    while q + 4 <= n {
                        let a = UnsafeRawPointer(dst + q).loadUnaligned(as: SIMD4<Float>.self)
                        let b = UnsafeRawPointer(src + q).loadUnaligned(as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(dst + q).storeBytes(of: a + b, as: SIMD4<Float>.self)
                        q += 4
                    }
                    while q < n { dst[q] += src[q]; q += 1 }
                } else {
                    var d = dst
                    for q in 0..<n { d.pointee += src[q]; d += step }
                }
            }
        }
    }
}
