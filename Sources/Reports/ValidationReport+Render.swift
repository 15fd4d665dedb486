import Foundation
import Reference

extension ValidationReport {
    public func render(_ format: OutputFormat) throws -> String {
        switch format {
        case .json: return try encodeJSON(self)
        case .text: return text()
        case .markdown: return markdown()
        case .csv: return csv()
        case .sarif, .github: return try FindingsRenderer.render(findings, format: format, modelPath: model.path)
        }
    }

    var rowCells: [[String]] {
        inputs.map { r in
            [String(r.index), r.source, String(r.label), String(r.adversarialLabel), r.flipped ? "yes" : "no", String(r.steps),
             fmt(r.relPerturbation.value), fmt(r.kappaFinal.value), fmt(r.kappaMax.value), fmt(r.kappaRandom.value)]
        }
    }

    static let rowHeader = ["#", "source", "label", "adv", "flipped", "steps", "‖δx‖/‖x‖", "κ final", "κ max", "κ random"]

    var tableI: [[String]] {
        func rows(_ name: String, _ s: Stats) -> [[String]] {
            [("mean", s.mean), ("max", s.max), ("min", s.min)].enumerated().map { i, e in
                [i == 0 ? name : "", e.0, fmt(e.1?.kappa), e.1.map { String(format: "%.2f", $0.digits) } ?? "–", e.1.map { String($0.bits) } ?? "–"]
            }
        }
        return rows("DeepFool", summary.deepfool) + rows("Random", summary.random)
    }

    var shardText: String {
        shards.count == 1 && shards[0].count == 1 ? "" : ", shard\(shards.count > 1 ? "s" : "") " + shards.map { "\($0.index)/\($0.count)" }.joined(separator: ", ")
    }

    func text() -> String {
        var s = "Model     \(model.path)\n"
        s += "Output    \(settings.output)\n"
        s += "Inputs    \(inputs.count) of \(settings.totalInputs) (\(settings.inputs))\(shardText)\n"
        s += "DeepFool  top-\(settings.candidates) candidates, ≤ \(settings.maxSteps) steps, overshoot \(settings.overshoot)"
        s += settings.clip.map { ", clip [\(fmt($0[0])), \(fmt($0[1]))]" } ?? ""
        s += "; random seed \(settings.seed)\n\n"
        s += TextFormat.table(Self.rowHeader, rowCells)
        s += "\nTable I (κ = (‖δy‖/‖y‖)/(‖δx‖/‖x‖) on \(settings.output); DeepFool per input: max over iterates)\n"
        s += TextFormat.table(["", "", "κ", "digits", "bits"], tableI)
        s += "\nFlipped           \(summary.flipped) of \(summary.inputs)\n"
        s += "Observed gain     max ‖δy‖/‖δx‖ = \(fmt(summary.observedGainMax.value))\n"
        if let b = summary.bound.value {
            s += "Bound (Eq. 7)     L = \(fmt(b)); tightness L/observed = \(fmt(summary.tightness.value))\n"
        }
        for f in findings { s += "\(f.severity.rawValue): \(f.message)\n" }
        return s
    }

    func markdown() -> String {
        var s = "### Kappa validate: `\(model.path)`\n\n"
        s += "Output `\(settings.output)`, \(inputs.count) of \(settings.totalInputs) inputs (\(settings.inputs))\(shardText); "
        s += "DeepFool top-\(settings.candidates), ≤ \(settings.maxSteps) steps, overshoot \(settings.overshoot).\n\n"
        s += "| | | κ | digits | bits |\n|---|---|---:|---:|---:|\n"
        for r in tableI { s += "| " + r.joined(separator: " | ") + " |\n" }
        s += "\nObserved gain max ‖δy‖/‖δx‖ = \(fmt(summary.observedGainMax.value))"
        if let b = summary.bound.value { s += "; bound L = \(fmt(b)), tightness \(fmt(summary.tightness.value))" }
        s += "; flipped \(summary.flipped) of \(summary.inputs).\n\n"
        s += "| " + Self.rowHeader.joined(separator: " | ") + " |\n|" + String(repeating: "---|", count: Self.rowHeader.count) + "\n"
        for r in rowCells { s += "| " + r.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n" }
        for f in findings { s += "\n> **\(f.severity.rawValue)**: \(f.message)\n" }
        return s
    }

    func csv() -> String {
        var s = "index,source,label,adversarial_label,flipped,steps,rel_perturbation,kappa_final,kappa_max,kappa_random,gain_max\n"
        func num(_ v: JSONNumber) -> String { v.value.map { String($0) } ?? "" }
        for r in inputs {
            s += [String(r.index), FindingsRenderer.csvField(r.source), String(r.label), String(r.adversarialLabel), String(r.flipped),
                  String(r.steps), num(r.relPerturbation), num(r.kappaFinal), num(r.kappaMax), num(r.kappaRandom), num(r.gainMax)]
                .joined(separator: ",") + "\n"
        }
        return s
    }
}

/// The empirical gate of `kappa check --inputs/--synthetic`: the bits of the largest
/// measured κ (DESIGN.md §1.5, ⌈log2 κ⌉ + 1, over DeepFool's per-input κ_max and the random
/// κ) against a budget. No measurable κ fails the gate (nothing was certified).
public enum ValidationGate {
    public struct Outcome: Sendable, Equatable {
        public var passed: Bool
        /// Bits of the largest measured κ, nil when none was measured.
        public var bits: Int?
        public var kappa: Double?
        public var finding: Finding?
    }

    public static func evaluate(_ report: ValidationReport, maxBits: Int) -> Outcome {
        let candidates = [report.summary.deepfool.max, report.summary.random.max].compactMap { $0 }
        guard let worst = candidates.max(by: { $0.kappa < $1.kappa }) else {
            return Outcome(passed: false, bits: nil, kappa: nil,
                           finding: Finding(rule: Rule.precisionOverBudget, severity: .error,
                                            message: "no κ could be measured on \(report.inputs.count) input(s), so the \(maxBits)-bit budget is not verified"))
        }
        guard worst.bits > maxBits else { return Outcome(passed: true, bits: worst.bits, kappa: worst.kappa, finding: nil) }
        return Outcome(passed: false, bits: worst.bits, kappa: worst.kappa,
                       finding: Finding(rule: Rule.precisionOverBudget, severity: .error,
                                        message: "measured κ max \(fmt(worst.kappa)) on \(report.settings.output) needs \(worst.bits) bits (⌈log2 κ⌉ + 1), over the budget of \(maxBits)"))
    }
}
