import Foundation

/// κ with the precision it implies (DESIGN.md §1.5): digits lost = log10 κ,
/// minimum bits = ⌈log2 κ⌉ + 1.
public struct Precision: Sendable, Equatable, Codable {
    public var kappa: Double
    public var digits: Double
    public var bits: Int

    public init?(kappa: Double) {
        guard kappa.isFinite, kappa > 0 else { return nil }
        self.kappa = kappa
        digits = log10(kappa)
        bits = Int(log2(kappa).rounded(.up)) + 1
    }
}

/// Mean, maximum and minimum of κ over the inputs, as the paper's Table I.
public struct KappaStatistics: Sendable, Equatable {
    public var mean: Precision?
    public var max: Precision?
    public var min: Precision?
    /// Number of inputs with a finite κ (the others are left out).
    public var count: Int

    public init(_ values: [Double]) {
        let v = values.filter { $0.isFinite && $0 > 0 }
        count = v.count
        mean = v.isEmpty ? nil : Precision(kappa: v.reduce(0, +) / Double(v.count))
        max = v.max().flatMap { Precision(kappa: $0) }
        min = v.min().flatMap { Precision(kappa: $0) }
    }
}

/// The Table I block of `kappa validate`: DeepFool κ (per input its κ_max) and random κ
/// statistics, the largest observed gain ‖δy‖/‖δx‖, the bound L (Eq. 7) when given, and the
/// tightness ratio L / observed gain (≥ 1 for a sound bound).
public struct ValidationSummary: Sendable, Equatable {
    public var deepfool: KappaStatistics
    public var random: KappaStatistics
    public var observedGainMax: Double?
    public var bound: Double?
    public var tightness: Double?
    public var flipped: Int
    public var inputs: Int

    /// Recomputes the summary from per-input rows (also how `kappa merge` combines shards).
    public init(rows: [InputMeasurement], bound: Double?) {
        deepfool = KappaStatistics(rows.compactMap(\.kappaMax))
        random = KappaStatistics(rows.compactMap(\.kappaRandom))
        observedGainMax = rows.compactMap(\.gainMax).max()
        self.bound = bound
        if let bound, let g = observedGainMax, g > 0 { tightness = bound / g } else { tightness = nil }
        flipped = rows.filter(\.flipped).count
        inputs = rows.count
    }
}
