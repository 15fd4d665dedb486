import Foundation

/// Digits and bits a condition value κ costs (DESIGN.md §1.5, the paper's Table I):
/// digits lost = log₁₀ κ, minimum bits = ⌈log₂ κ⌉ + 1. The one rule for static bounds and
/// measurements alike, so the static and the measured gate agree.
///
/// κ ≤ 1 loses nothing: digits are clamped at 0 and bits at 1 (a measured κ below 1 — the
/// output changed relatively less than the input — needs no extra bit either). An unbounded
/// (∞) or undefined (NaN) κ has neither digits nor bits (`nil`; JSON null plus a finding).
/// Checks: κ = 101.78 → 2.01 digits, 8 bits; 651.06 → 2.81, 11; 12.00 → 1.08, 5.
public struct Precision: Sendable, Equatable, Codable {
    public var kappa: Double
    public var digits: Double?
    public var bits: Int?

    public init(kappa: Double) {
        self.kappa = kappa
        guard kappa.isFinite else { digits = nil; bits = nil; return }
        guard kappa > 1 else { digits = 0; bits = 1; return }
        digits = log10(kappa)
        bits = Int(log2(kappa).rounded(.up)) + 1
    }

    public var isBounded: Bool { bits != nil }

    enum CodingKeys: String, CodingKey { case kappa, digits, bits }

    /// Every key is written; a non-finite κ is `null`, as are its digits and bits.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if kappa.isFinite { try c.encode(kappa, forKey: .kappa) } else { try c.encodeNil(forKey: .kappa) }
        try c.encode(digits, forKey: .digits)
        try c.encode(bits, forKey: .bits)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kappa: try c.decodeIfPresent(Double.self, forKey: .kappa) ?? .infinity)
    }
}
