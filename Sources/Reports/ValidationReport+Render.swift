import Foundation

extension ValidationReport {
    public func render(_ format: OutputFormat) throws -> String {
        switch format {
        case .json: return try encodeJSON(self)
        case .text: return text()
        case .markdown: return markdown()
        case .csv: return csv()
        case .html: return html()
        case .sarif, .github: return try FindingsRenderer.render(findings, format: format, modelPath: model.path)
        }
    }

    var rowCells: [[String]] {
        inputs.map { r in
            [String(r.index), r.source, String(r.label), String(r.adversarialLabel), r.flipped ? "yes" : "no", String(r.steps),
             NumberText.value(r.relPerturbation.value), NumberText.value(r.kappaFinal.value), NumberText.value(r.kappaMax.value), NumberText.value(r.kappaRandom.value)]
        }
    }

    static let rowHeader = ["#", "source", "label", "adv", "flipped", "steps", "‖δx‖/‖x‖", "κ final", "κ max", "κ random"]

    var tableI: [[String]] {
        func rows(_ name: String, _ s: Stats) -> [[String]] {
            [("mean", s.mean), ("max", s.max), ("min", s.min)].enumerated().map { i, e in
                [i == 0 ? name : "", e.0, NumberText.value(e.1?.kappa), NumberText.digits(e.1?.digits), NumberText.bitCount(e.1?.bits)]
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
        if let p = settings.perturbed { s += "Perturbed \(p)\n" }
        s += "Inputs    \(inputs.count) of \(settings.totalInputs) (\(settings.inputs))\(shardText)\n"
        for o in settings.otherInputs ?? [] { s += "          \(o)\n" }
        s += "DeepFool  top-\(settings.candidates) candidates, ≤ \(settings.maxSteps) steps, overshoot \(settings.overshoot)"
        s += settings.clip.map { ", clip [\(NumberText.value($0[0])), \(NumberText.value($0[1]))]" } ?? ""
        s += "; random seed \(settings.seed)\n\n"
        s += TextFormat.table(Self.rowHeader, rowCells)
        s += "\nTable I (κ = (‖δy‖/‖y‖)/(‖δx‖/‖x‖) on \(settings.output); DeepFool per input: max over iterates)\n"
        s += TextFormat.table(["", "", "κ", "digits", "bits"], tableI)
        s += "\nFlipped           \(summary.flipped) of \(summary.inputs)\n"
        s += "Observed gain     max ‖δy‖/‖δx‖ = \(NumberText.value(summary.observedGainMax.value))\n"
        if let b = summary.bound.value {
            s += "Bound (Eq. 7)     L = \(NumberText.value(b)); tightness L/observed = \(NumberText.value(summary.tightness.value))\n"
        }
        for f in findings { s += "\(f.severity.rawValue): [\(f.rule.id)] \(f.message)\n" }
        return s
    }

    func markdown() -> String {
        var s = "### Kappa validate: `\(model.path)`\n\n"
        s += "Output `\(settings.output)`, \(inputs.count) of \(settings.totalInputs) inputs (\(settings.inputs))\(shardText); "
        s += "DeepFool top-\(settings.candidates), ≤ \(settings.maxSteps) steps, overshoot \(settings.overshoot).\n\n"
        s += "| | | κ | digits | bits |\n|---|---|---:|---:|---:|\n"
        for r in tableI { s += "| " + r.joined(separator: " | ") + " |\n" }
        s += "\nObserved gain max ‖δy‖/‖δx‖ = \(NumberText.value(summary.observedGainMax.value))"
        if let b = summary.bound.value { s += "; bound L = \(NumberText.value(b)), tightness \(NumberText.value(summary.tightness.value))" }
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
