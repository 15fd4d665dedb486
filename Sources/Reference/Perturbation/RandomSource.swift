import Foundation
import Linalg

/// SplitMix64 (Steele, Lea, Flood, OOPSLA 2014) with Box–Muller normals: the seeded
/// source of random perturbation directions and synthetic inputs. Each input gets its own
/// stream (seed mixed with the input's global index), so a sharded run draws exactly the
/// numbers an unsharded one does.
public struct RandomSource: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The stream for input `index` under run seed `seed`.
    public init(seed: UInt64, stream index: Int) {
        var s = RandomSource(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03))
        state = s.next()
    }

    public mutating func next() -> UInt64 { SplitMix64.next(&state) }

    /// Uniform in (0, 1].
    public mutating func uniform() -> Double { Double((next() >> 11) + 1) * 0x1p-53 }

    /// A standard normal deviate.
    public mutating func normal() -> Double {
        (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
    }

    /// A direction uniform on the unit sphere in n dimensions (a normalised Gaussian vector).
    public mutating func unitVector(_ n: Int) -> [Double] {
        var v = (0..<n).map { _ in normal() }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { for i in v.indices { v[i] /= norm } }
        return v
    }
}

/// Euclidean norm accumulated in Double.
func norm2(_ v: [Float]) -> Double {
    var s = 0.0
    for x in v { s += Double(x) * Double(x) }
    return s.squareRoot()
}

/// ‖a − b‖ accumulated in Double.
func distance(_ a: [Float], _ b: [Float]) -> Double {
    var s = 0.0
    for i in a.indices {
        let d = Double(a[i]) - Double(b[i])
        s += d * d
    }
    return s.squareRoot()
}

/// The index of the largest value (first on ties).
func argmax(_ v: [Float]) -> Int {
    var best = 0
    for i in v.indices where v[i] > v[best] { best = i }
    return best
}
