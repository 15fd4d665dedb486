import Foundation

/// Digits and bits a condition value κ costs (DESIGN.md §1.5, the paper's Table I):
/// digits lost = log₁₀ κ, minimum bits = ⌈log₂ κ⌉ + 1.
///
/// κ ≤ 1 loses nothing: digits are clamped at 0 and bits at 1. An unbounded (∞ or NaN)
/// κ has neither digits nor bits (`nil`; rendered as JSON null plus a finding).
public struct Precision: Sendable, Equatable {
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
}
