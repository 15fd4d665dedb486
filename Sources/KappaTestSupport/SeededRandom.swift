import Foundation
import Linalg

/// Linalg's SplitMix64 with uniform [0, 1) and Box–Muller deviates: every generated model
/// and test input is reproducible bit for bit.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    public mutating func next() -> UInt64 { SplitMix64.next(&state) }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal (Box–Muller).
    public mutating func gaussian() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// `count` Gaussian values scaled by `scale`, as Float.
    ///
    /// The same values as `count` calls of `gaussian()`, computed in one tight loop: the
    /// full-size architectures draw 61 M (AlexNet) and 144 M (VGG-19) weights, and in debug
    /// builds the per-element method calls and closure dominated test time.
    public mutating func gaussians(_ count: Int, scale: Double = 1) -> [Float] {
        guard count > 0 else { return [] }
        var s = state
        let out = [Float](unsafeUninitializedCapacity: count) { buf, n in
            guard let p = buf.baseAddress else { n = 0; return }
            for i in 0..<count {
                let a = SplitMix64.next(&s)
                let b = SplitMix64.next(&s)
                let u1 = max(Double(a >> 11) * 0x1p-53, 1e-300), u2 = Double(b >> 11) * 0x1p-53
                (p + i).initialize(to: Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2) * scale))
            }
            n = count
        }
        state = s
        return out
    }
}

