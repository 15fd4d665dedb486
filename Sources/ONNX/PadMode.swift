/// Padding modes of ONNX Pad, shared by the Lipschitz rule and the reference engine: where
/// output index j of an axis of extent n with `begin`/`end` padding reads (−1: the constant
/// value). Negative pads crop.
public enum PadMode: String, Sendable {
    case constant, reflect, edge, wrap

    public func map(extent n: Int, begin: Int, end: Int) -> [Int] {
        let out = n + begin + end
        guard n > 0 else { return Array(repeating: -1, count: max(out, 0)) }
        return (0..<max(out, 0)).map { j in
            var i = j - begin
            if i >= 0 && i < n { return i }
            switch self {
            case .constant: return -1
            case .edge: return min(max(i, 0), n - 1)
            case .wrap: return ((i % n) + n) % n
            case .reflect:
                guard n > 1 else { return 0 }
                let period = 2 * (n - 1)
                i = ((i % period) + period) % period
                return i < n ? i : period - i
            }
        }
    }

    /// The largest number of output positions of one axis that read the same input position
    /// (1 for constant padding). With the extent unknown, the worst case over every extent
    /// n ≥ 1: an axis of one element is copied into all 1 + begin + end positions (saturated
    /// at 2⁶²; the walk runs only for extents and pads below 2²⁶).
    public func maxMultiplicity(extent n: Int?, begin: Int, end: Int) -> Int {
        if self == .constant { return 1 }
        let worst = 1.0 + Double(max(begin, 0)) + Double(max(end, 0))
        guard let n, n > 0, worst <= Double(1 << 26), n <= 1 << 26 else { return Int(min(worst, 0x1p62)) }
        var counts = [Int](repeating: 0, count: n)
        for i in map(extent: n, begin: begin, end: end) where i >= 0 { counts[i] += 1 }
        return counts.max() ?? 1
    }
}
