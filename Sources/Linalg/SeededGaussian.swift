// A small seeded random source for the start vectors of the iterative solvers.
import Foundation

/// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014)
/// with Box–Muller normal deviates: a reproducible start vector from `SpectralOptions.seed`.
struct SeededGaussian {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: 53 random bits, never 0 (so the logarithm below is finite).
    mutating func uniform() -> Double { Double((next() >> 11) + 1) * 0x1p-53 }

    /// A standard normal deviate (Box–Muller, one of the pair).
    mutating func normal() -> Double {
        let r = (-2 * log(uniform())).squareRoot()
        return r * cos(2 * Double.pi * uniform())
    }

    /// `count` independent standard normal deviates.
    mutating func normals(_ count: Int) -> [Double] { (0..<count).map { _ in normal() } }
}
