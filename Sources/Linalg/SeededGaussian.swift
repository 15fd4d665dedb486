// A small seeded random source for the start vectors of the iterative solvers.
import Foundation

/// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014): the one generator behind every seeded stream in Kappa (Lanczos start
/// vectors, DeepFool's random directions and synthetic inputs, generated test models), so
/// results are reproducible bit for bit across machines.
public enum SplitMix64 {
    /// Advances `state` by the golden-ratio increment and returns the mixed output.
    @inlinable
    public static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// SplitMix64 with Box–Muller normal deviates: a reproducible start vector from
/// `SpectralOptions.seed`.
struct SeededGaussian {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 { SplitMix64.next(&state) }

    /// Uniform in (0, 1]: 53 random bits, never 0 (so the logarithm below is finite).
    mutating func uniform() -> Double { Double((next() >> 11) + 1) * 0x1p-53 }

    /// A standard normal deviate (Box–Muller, one of the pair).
    mutating func normal() -> Double {
        let r = (-2 * log(uniform())).squareRoot()
        return r * cos(2 * Double.pi * uniform())
    }

    /// `count` independent standard normal deviates.
    mutating func normals(_ count: Int) -> [Double] { (0..<count).map { _ in normal() } }

    /// A direction uniform on the unit sphere in n dimensions: the Lanczos start vector.
    mutating func unitVector(_ n: Int) -> [Double] {
        var v = normals(n)
        normalize(&v)
        return v
    }
}
