import Foundation

/// Sound elementwise bounds of one tensor over the input domain (DESIGN.md §1.8): every value
/// the tensor takes for an input in the domain lies in [lo[i], hi[i]] (float32, rounded
/// outward). ±∞ marks an element without a finite bound. Made by the interval evaluator
/// (Reference's `IntervalEvaluator`) and read by the domain-dependent Lipschitz rules.
public struct TensorBounds: Sendable, Equatable {
    public var shape: [Int]
    public var lo: [Float]
    public var hi: [Float]

    public init(shape: [Int], lo: [Float], hi: [Float]) {
        self.shape = shape
        self.lo = lo
        self.hi = hi
    }

    /// One interval for every element.
    public init(shape: [Int], lo: Float, hi: Float) {
        let n = shape.reduce(1, *)
        self.init(shape: shape, lo: Array(repeating: lo, count: n), hi: Array(repeating: hi, count: n))
    }

    /// No information: (−∞, ∞) everywhere.
    public static func unbounded(shape: [Int]) -> TensorBounds { TensorBounds(shape: shape, lo: -.infinity, hi: .infinity) }

    public var count: Int { lo.count }

    /// Whether every element has a finite interval.
    public var isFinite: Bool { lo.allSatisfy(\.isFinite) && hi.allSatisfy(\.isFinite) }

    /// M_i = max(|lo_i|, |hi_i|): the largest magnitude element i takes.
    @inline(__always) public func magnitude(_ i: Int) -> Double { Double(max(abs(lo[i]), abs(hi[i]))) }

    /// m_i = min |x| over [lo_i, hi_i] (0 when the interval contains 0).
    @inline(__always) public func minMagnitude(_ i: Int) -> Double {
        lo[i] > 0 ? Double(lo[i]) : (hi[i] < 0 ? Double(-hi[i]) : 0)
    }

    /// sup over the box of ‖t‖₂ = √(Σ M_i²), accumulated in Double and rounded up.
    public var supNorm: Double {
        var s = 0.0
        for i in 0..<count { let m = magnitude(i); s += m * m }
        return (s * (1 + Double(count + 2) * 0x1p-53)).squareRoot().nextUp
    }

    /// max_i M_i.
    public var maxMagnitude: Double {
        var m = 0.0
        for i in 0..<count { m = max(m, magnitude(i)) }
        return m
    }

    /// The hull of two bounds of the same shape (for a value that is one or the other).
    public func union(_ o: TensorBounds) -> TensorBounds {
        guard o.shape == shape, o.count == count else { return .unbounded(shape: shape) }
        return TensorBounds(shape: shape, lo: zip(lo, o.lo).map { min($0, $1) }, hi: zip(hi, o.hi).map { max($0, $1) })
    }
}

/// Where an input domain came from (reported next to the bracket).
public enum DomainSource: String, Sendable, Codable {
    /// `--input-range NAME=LO,HI` (or per channel).
    case declared
    /// The observed min/max of the `--inputs` data: not a guarantee for other inputs.
    case empirical
    /// An embedding lookup's output: the column ranges of its table.
    case table
    /// An integer or bool input without a declared range: the range of its type.
    case dtype
}

/// The input domain of a bracket run: bounds of every graph input (and of the perturbed
/// tensors), with where each came from.
public struct InputDomain: Sendable {
    public var bounds: [String: TensorBounds]
    public var sources: [String: DomainSource]
    /// A one-line description per tensor ("x ∈ [0, 1] (declared)").
    public var descriptions: [String]

    public init(bounds: [String: TensorBounds] = [:], sources: [String: DomainSource] = [:], descriptions: [String] = []) {
        self.bounds = bounds
        self.sources = sources
        self.descriptions = descriptions
    }
}
