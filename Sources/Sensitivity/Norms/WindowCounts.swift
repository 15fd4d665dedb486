import ONNX

/// Window counting shared by the pooling constants and the convolution operator bound.
///
/// For a sliding window with kernel k, stride s, dilation d and begin padding b, window i
/// covers positions p = i·s + j·d − b (0 ≤ j < k). Along one axis, c_axis is the largest
/// number of windows one in-bounds position lies in; over several axes the count of a
/// position is the product of its axis counts, so c = Π c_axis.
public enum WindowCounts {
    /// Exact c for this geometry (never above the closed form ``closedForm``).
    public static func maxOverlap(_ g: WindowGeometry) -> Int {
        var c = 1
        for a in 0..<g.rank {
            var counts = [Int](repeating: 0, count: max(g.input[a], 0))
            for i in 0..<g.output[a] {
                for j in 0..<g.kernel[a] {
                    let p = i * g.strides[a] + j * g.dilations[a] - g.padsBegin[a]
                    if p >= 0 && p < g.input[a] { counts[p] += 1 }
                }
            }
            c *= counts.max() ?? 0
        }
        return c
    }

    /// DESIGN.md §1.1: c = Π min(k, ⌈((k−1)·d + 1)/s⌉), valid for any extent and padding.
    public static func closedForm(kernel: [Int], strides: [Int], dilations: [Int]) -> Int {
        var c = 1
        for a in 0..<kernel.count {
            let span = (kernel[a] - 1) * dilations[a] + 1
            let s = a < strides.count ? max(strides[a], 1) : 1
            c *= min(kernel[a], (span + s - 1) / s)
        }
        return c
    }

    /// K_min: the fewest elements any window averages. With `includePad` the divisor counts
    /// padded positions inside [−b, n + e); without, only positions inside [0, n).
    public static func minWindowSize(_ g: WindowGeometry, includePad: Bool) -> Int {
        var k = 1
        for a in 0..<g.rank {
            let lo = includePad ? -g.padsBegin[a] : 0
            let hi = includePad ? g.input[a] + g.padsEnd[a] : g.input[a]
            var smallest = Int.max
            for i in 0..<g.output[a] {
                var n = 0
                for j in 0..<g.kernel[a] {
                    let p = i * g.strides[a] + j * g.dilations[a] - g.padsBegin[a]
                    if p >= lo && p < hi { n += 1 }
                }
                smallest = min(smallest, n)
            }
            k *= smallest == Int.max ? 1 : max(smallest, 1)
        }
        return k
    }
}
