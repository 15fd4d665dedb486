/// Which network value `kappa check` gates on.
public enum GateBound: String, Codable, Sendable, CaseIterable {
    /// The gain bound L (Eq. 7).
    case eq7
    /// The rounding amplification E (Eq. 8).
    case eq8
    /// The largest κ measured by `validate` (DeepFool and random perturbations, DESIGN.md §1.6).
    case measured
}

/// Which end of the bracket [ℓ, L] a domain gate reads (`kappa check --gate`).
public enum GateEnd: String, Codable, Sendable, CaseIterable {
    /// L, the certified upper bound: passing means the budget is certified (the default).
    case upper
    /// ℓ, the certified lower bound: failing means the model certainly needs more bits.
    case lower
}

/// The gate policy of `kappa check` (DESIGN.md §2): a model passes when the bits of the gated
/// κ are known and within the budget. An unbounded κ fails: nothing can be certified. A
/// measurement that measured nothing fails too.
public enum Gate {
    public struct Outcome: Sendable, Equatable {
        public var passed: Bool
        public var precision: Precision
        /// KAPPA004 when the gate failed.
        public var finding: Finding?
    }

    /// Gate on a static bound: Eq. 7 or Eq. 8 in one column. With `tightening` (Eq. 7 only) the
    /// gated value is the smallest of the plain, folded and rescaled Eq. 7: each bounds the
    /// same function (``RescalingResult``), so their minimum does too.
    public static func evaluate(_ network: NetworkResult, bound: GateBound, column: NormMode, maxBits: Int,
                                tightening: RescalingResult? = nil) -> Outcome {
        let pair = bound == .eq8 ? network.eq8 : network.eq7
        var kappa = pair[column], tightened = false
        if bound == .eq7, let t = tightening {
            for v in [t.folded[column], t.rescaled[column]] where v.isFinite && v < kappa { kappa = v; tightened = true }
        }
        let p = Precision(kappa: kappa)
        let label = "\(bound == .eq8 ? "Eq. 8 rounding amplification" : tightened ? "Eq. 7 gain bound after rescaling" : "Eq. 7 gain bound") (\(column == .matrix ? "σ_matrix" : "σ_op"))"
        guard let bits = p.bits else {
            return Outcome(passed: false, precision: p,
                           finding: Finding(.precisionOverBudget, "\(label) is unbounded: the precision cannot be certified within \(maxBits) bits"))
        }
        guard bits > maxBits else { return Outcome(passed: true, precision: p, finding: nil) }
        return Outcome(passed: false, precision: p,
                       finding: Finding(.precisionOverBudget, "\(label) κ = \(NumberText.value(p.kappa)) needs \(bits) bits (\(NumberText.digits(p.digits)) digits lost), over the budget of \(maxBits)"))
    }

    /// Gate on the lower end ℓ of a bracket: a model fails when ℓ alone needs more than the budget
    /// (then at least that many bits are needed, certainly); passing says nothing certain.
    public static func evaluateLower(_ bracket: Bracket?, maxBits: Int) -> Outcome {
        guard let l = bracket?.lower?.value, l.isFinite else {
            return Outcome(passed: false, precision: Precision(kappa: .nan),
                           finding: Finding(.precisionOverBudget, "--gate lower needs an input domain (--input-range) and a lower-bound search (--lower-budget > 0)"))
        }
        let p = Precision(kappa: l)
        guard let bits = p.bits, bits > maxBits else { return Outcome(passed: true, precision: p, finding: nil) }
        return Outcome(passed: false, precision: p,
                       finding: Finding(.precisionOverBudget, "the certified lower bound ℓ = \(NumberText.value(l)) of the Lipschitz constant on the domain needs \(bits) bits: at least that many, certainly, over the budget of \(maxBits)"))
    }

    /// Gate on a measurement: the bits of the largest κ measured (DeepFool's per-input κ_max or
    /// a random perturbation's).
    public static func evaluate(_ summary: MeasurementSummary, output: String, maxBits: Int) -> Outcome {
        let candidates = [summary.deepfool.max, summary.random.max].compactMap { $0 }
        guard let worst = candidates.max(by: { $0.kappa < $1.kappa }) else {
            return Outcome(passed: false, precision: Precision(kappa: .nan),
                           finding: Finding(.precisionOverBudget, "no κ could be measured on \(summary.inputs) input(s), so the \(maxBits)-bit budget is not verified"))
        }
        guard let bits = worst.bits, bits > maxBits else { return Outcome(passed: worst.bits != nil, precision: worst, finding: nil) }
        return Outcome(passed: false, precision: worst,
                       finding: Finding(.precisionOverBudget, "measured κ max \(NumberText.value(worst.kappa)) on \(output) needs \(bits) bits (⌈log2 κ⌉ + 1), over the budget of \(maxBits)"))
    }
}
