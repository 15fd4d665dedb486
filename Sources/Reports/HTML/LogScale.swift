import Foundation

/// A base-10 logarithmic axis over whole decades [10^lo, 10^hi], mapped onto the pixel
/// interval [top, top + height] with larger values higher up (smaller y).
public struct LogScale: Sendable, Equatable {
    public var lo: Int
    public var hi: Int
    public var top: Double
    public var height: Double

    /// The decades that hold every positive finite value (and `include`, e.g. 1 for a bar
    /// baseline), at most `maxDecades` wide: beyond that the lowest decades are cut, and
    /// smaller values sit on the bottom edge. An empty or single-decade set spans one decade.
    public init(values: [Double], include: [Double] = [], top: Double, height: Double, maxDecades: Int = 40) {
        let logs = (values + include).filter { $0 > 0 && $0.isFinite }.map(log10)
        var lo = Int(floor(logs.min() ?? 0)), hi = Int(ceil(logs.max() ?? 1))
        if hi <= lo { hi = lo + 1 }
        if hi - lo > maxDecades { lo = hi - maxDecades }
        self.lo = lo
        self.hi = hi
        self.top = top
        self.height = height
    }

    /// y of a positive value, clamped to the axis; +∞ maps to the top edge. nil for 0,
    /// negative or NaN values (they have no place on a log axis).
    public func y(_ v: Double) -> Double? {
        guard v > 0, !v.isNaN else { return nil }
        let l = v.isInfinite ? Double(hi) : min(max(log10(v), Double(lo)), Double(hi))
        return top + height * (Double(hi) - l) / Double(hi - lo)
    }

    /// The decades to label: every k-th so that at most about `maxTicks` labels appear.
    public func ticks(maxTicks: Int = 10) -> [Int] {
        let k = max(1, Int((Double(hi - lo) / Double(max(1, maxTicks))).rounded(.up)))
        return stride(from: lo, through: hi, by: 1).filter { ($0 - lo) % k == 0 || $0 == hi }
    }

    /// "1e3"-style label of a decade (10^0 is "1").
    public static func label(_ d: Int) -> String {
        switch d {
        case 0: return "1"
        case 1: return "10"
        case -1: return "0.1"
        default: return "1e\(d)"
        }
    }
}
