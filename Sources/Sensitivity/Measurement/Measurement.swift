/// Empirical κ of one input (DESIGN.md §1.6, the paper's Eq. 1 and Eq. 6):
/// κ = (‖δy‖/‖y‖) / (‖δx‖/‖x‖) on the analysed output y, for every DeepFool iterate's
/// cumulative perturbation (κ_max over them, the final one included; κ_final of the last), and
/// for a random perturbation of the same norm as DeepFool's (direction a normalised Gaussian,
/// seeded per input). The reference engine measures; this type is the measurement.
public struct InputMeasurement: Sendable, Equatable {
    /// Position of the input in the whole (unsharded) input list, and where it came from.
    public var index: Int
    public var source: String
    public var label: Int
    public var adversarialLabel: Int
    public var flipped: Bool
    public var steps: Int
    /// ‖δx‖/‖x‖ of the final DeepFool perturbation.
    public var relPerturbation: Double?
    public var kappaFinal: Double?
    public var kappaMax: Double?
    public var kappaRandom: Double?
    /// Largest ‖δy‖/‖δx‖ seen for this input (DeepFool iterates and the random perturbation).
    public var gainMax: Double?

    public init(index: Int, source: String, label: Int, adversarialLabel: Int, flipped: Bool, steps: Int,
                relPerturbation: Double?, kappaFinal: Double?, kappaMax: Double?, kappaRandom: Double?, gainMax: Double?) {
        self.index = index
        self.source = source
        self.label = label
        self.adversarialLabel = adversarialLabel
        self.flipped = flipped
        self.steps = steps
        self.relPerturbation = relPerturbation
        self.kappaFinal = kappaFinal
        self.kappaMax = kappaMax
        self.kappaRandom = kappaRandom
        self.gainMax = gainMax
    }

    /// κ from norms; nil when a norm is zero or the result is not finite.
    public static func kappa(inputChange dx: Double, outputChange dy: Double, inputNorm x: Double, outputNorm y: Double) -> Double? {
        guard dx > 0, x > 0, y > 0 else { return nil }
        let k = (dy / y) / (dx / x)
        return k.isFinite ? k : nil
    }
}

/// Mean, maximum and minimum of κ over the inputs, as the paper's Table I, each with the
/// digits and bits of ``Precision`` (the same rule as the static bounds).
public struct KappaStatistics: Sendable, Equatable {
    public var mean: Precision?
    public var max: Precision?
    public var min: Precision?
    /// Number of inputs with a finite κ (the others are left out).
    public var count: Int

    public init(_ values: [Double]) {
        let v = values.filter { $0.isFinite && $0 >= 0 }
        count = v.count
        mean = v.isEmpty ? nil : Precision(kappa: v.reduce(0, +) / Double(v.count))
        max = v.max().map { Precision(kappa: $0) }
        min = v.min().map { Precision(kappa: $0) }
    }

    public init(mean: Precision?, max: Precision?, min: Precision?, count: Int) {
        self.mean = mean
        self.max = max
        self.min = min
        self.count = count
    }
}

/// The Table I block of a measurement: DeepFool κ (per input its κ_max) and random κ
/// statistics, the largest observed gain ‖δy‖/‖δx‖, the bound L (Eq. 7) when given, and the
/// tightness ratio L / observed gain (≥ 1 for a sound bound).
public struct MeasurementSummary: Sendable, Equatable {
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

/// A deterministic slice of the inputs: input i belongs to shard i mod count (0-based).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public static let all = Shard(index: 0, count: 1)

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses "I/N" with 0 ≤ I < N; nil otherwise.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else { return nil }
        self.init(index: i, count: n)
    }

    public func contains(_ input: Int) -> Bool { input % count == index }
    public var description: String { "\(index)/\(count)" }
}

/// How a measurement was made: everything shard reports must share to be merged.
public struct MeasurementSettings: Sendable, Equatable {
    /// The analysed output y and the perturbed tensor x.
    public var output: String
    public var perturbed: String
    /// Where the inputs came from (a path, or "synthetic N, uniform in [lo, hi], seed s").
    public var inputs: String
    public var totalInputs: Int
    public var maxSteps: Int
    public var overshoot: Double
    public var candidates: Int
    public var seed: UInt64
    public var clip: ClosedRange<Double>?
    public var shard: Shard
    /// How the graph inputs other than the listed one got their values ("mask: ones
    /// (synthetic)", "mask: from the test-data set").
    public var otherInputs: [String] = []

    public init(output: String, perturbed: String, inputs: String, totalInputs: Int, maxSteps: Int, overshoot: Double,
                candidates: Int, seed: UInt64, clip: ClosedRange<Double>?, shard: Shard) {
        self.output = output
        self.perturbed = perturbed
        self.inputs = inputs
        self.totalInputs = totalInputs
        self.maxSteps = maxSteps
        self.overshoot = overshoot
        self.candidates = candidates
        self.seed = seed
        self.clip = clip
        self.shard = shard
    }
}

/// The measurement of `kappa validate` (and of `kappa check --inputs`): per-input rows and
/// the Table I summary.
public struct MeasurementResult: Sendable {
    public var settings: MeasurementSettings
    public var rows: [InputMeasurement]
    public var summary: MeasurementSummary

    public init(settings: MeasurementSettings, rows: [InputMeasurement], bound: Double?) {
        self.settings = settings
        self.rows = rows
        self.summary = MeasurementSummary(rows: rows, bound: bound)
    }

    /// Findings of a measurement: inputs that did not flip (KAPPA000), an observed gain above a
    /// bound called sound (KAPPA005).
    public static func findings(rows: [InputMeasurement], summary: MeasurementSummary, maxSteps: Int) -> [Finding] {
        var f: [Finding] = []
        let stuck = rows.filter { !$0.flipped }
        if !stuck.isEmpty {
            f.append(Finding(.note, "\(stuck.count) of \(rows.count) input(s) did not change class within \(maxSteps) DeepFool steps: \(stuck.prefix(5).map(\.source).joined(separator: ", "))\(stuck.count > 5 ? ", ..." : "")"))
        }
        if let t = summary.tightness, t < 1, let b = summary.bound, let g = summary.observedGainMax {
            f.append(Finding(.boundViolated, "observed gain \(NumberText.value(g)) exceeds the bound \(NumberText.value(b)) that Kappa calls sound"))
        }
        return f
    }
}
