// im2col / col2im for spatial rank 1–3: the data movement behind ConvOperator.

/// The window structure of a ``ConvGeometry`` padded to rank 3 (leading axes of extent 1,
/// kernel 1, stride 1, dilation 1, pad 0), with the im2col gather and its adjoint col2im scatter.
///
/// Column matrix layout (row-major, one group of `channels` big-side channels, columns l0..<l1
/// of the L = Π small-extent windows): row r = c·K + j (j the flattened kernel tap, K = Π k),
/// column l − l0, so col[r·T + (l − l0)] = x[c, p(l, j)] with T = l1 − l0 and
/// p_a = o_a·s_a + j_a·d_a − padsBegin_a, zero when p falls outside the big extent.
/// im2col is the matrix P(x); col2im computes Pᵀ(col) (adds each entry back to its position).
struct Windows: Sendable {
    let big: [Int], small: [Int], kernel: [Int], stride: [Int], dilation: [Int], pad: [Int]
    /// Π kernel, Π small extent (windows), Π big extent.
    let taps: Int, windows: Int, bigCount: Int

    init(_ g: ConvGeometry) {
        func pad3(_ v: [Int], _ fill: Int) -> [Int] { [Int](repeating: fill, count: 3 - v.count) + v }
        big = pad3(g.bigExtent, 1); small = pad3(g.smallExtent, 1); kernel = pad3(g.kernel, 1)
        stride = pad3(g.strides, 1); dilation = pad3(g.dilations, 1); pad = pad3(g.padsBegin, 0)
        taps = kernel.reduce(1, *); windows = small.reduce(1, *); bigCount = big.reduce(1, *)
    }

    /// True when P is the identity (1×…×1 kernel, unit strides, no begin padding, equal extents):
    /// then the column matrix of a group is its input slice itself.
    var isIdentity: Bool {
        taps == 1 && stride.allSatisfy { $0 == 1 } && pad.allSatisfy { $0 == 0 } && big == small
    }

    /// Visits, for every kernel tap row of one channel and the window range l0..<l1, each run of
    /// consecutive windows along the last axis: body(rowOffset, firstColumn, count, p0p1Base or −1,
    /// p2 start, p2 step) — shared by the gather and the scatter so both see identical indices.
    @inline(__always)
    private func forEachRun(l0: Int, l1: Int,
                            _ body: (_ j: Int, _ col: Int, _ count: Int, _ base: Int, _ p2: Int, _ step: Int) -> Void) {
        let (s1, s2) = (small[1], small[2])
        var j = 0
        for j0 in 0..<kernel[0] {
            for j1 in 0..<kernel[1] {
                for j2 in 0..<kernel[2] {
                    let off0 = j0 * dilation[0] - pad[0], off1 = j1 * dilation[1] - pad[1]
                    let off2 = j2 * dilation[2] - pad[2]
                    var l = l0
                    while l < l1 {
                        let o2 = l % s2, o01 = l / s2, o1 = o01 % s1, o0 = o01 / s1
                        let n = min(s2 - o2, l1 - l)
                        let p0 = o0 * stride[0] + off0, p1 = o1 * stride[1] + off1
                        let inside = p0 >= 0 && p0 < big[0] && p1 >= 0 && p1 < big[1]
                        body(j, l - l0, n, inside ? (p0 * big[1] + p1) * big[2] : -1, o2 * stride[2] + off2, stride[2])
                        l += n
                    }
                    j += 1
                }
            }
        }
    }

    /// col ← P(x) for `channels` channels of x (each `bigCount` floats) and windows l0..<l1.
    func im2col(_ x: UnsafePointer<Float>, channels: Int, l0: Int, l1: Int, into col: UnsafeMutablePointer<Float>) {
        let t = l1 - l0, b2 = big[2]
        for c in 0..<channels {
            let xc = x + c * bigCount
            let rowBase = col + c * taps * t
            forEachRun(l0: l0, l1: l1) { j, column, count, base, p2, step in
                let out = rowBase + j * t + column
                if base < 0 {
                    out.update(repeating: 0, count: count)
                    return
                }
                var p = p2
                for q in 0..<count {
                    out[q] = (p >= 0 && p < b2) ? xc[base + p] : 0
                    p += step
                }
            }
        }
    }

    /// x ← x + Pᵀ(col): scatter-add the column matrix of windows l0..<l1 back to `channels` channels.
    func col2im(_ col: UnsafePointer<Float>, channels: Int, l0: Int, l1: Int, adding x: UnsafeMutablePointer<Float>) {
        let t = l1 - l0, b2 = big[2]
        for c in 0..<channels {
            let xc = x + c * bigCount
            let rowBase = col + c * taps * t
            forEachRun(l0: l0, l1: l1) { j, column, count, base, p2, step in
                guard base >= 0 else { return }
                let src = rowBase + j * t + column
                var p = p2
                for q in 0..<count {
                    if p >= 0 && p < b2 { xc[base + p] += src[q] }
                    p += step
                }
            }
        }
    }
}
