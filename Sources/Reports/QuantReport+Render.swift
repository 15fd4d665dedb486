import Foundation
import Sensitivity

extension QuantReport {
    static func db(_ v: JSONNumber) -> String { v.value.map { String(format: "%.1f", $0) } ?? "∞" }

    func layerRows() -> [[String]] {
        layers.map { l in
            [String(l.index), l.node, l.op, "\(l.weights)/\(l.activations)", NumberText.value(l.deltaSigma.value), NumberText.value(l.deltaFrobenius.value),
             Self.db(l.sqnrDb), l.channelSpread.value.map { String(format: "%.1f", $0) } ?? "", NumberText.value(l.gainToOutput.value),
             l.predicted.value != nil ? NumberText.value(l.predicted.value) : NumberText.value(l.errorPerUnitInput.value) + "·‖x‖",
             NumberText.percent(l.share.value), l.measured.map { NumberText.value($0.maxError.value) } ?? "",
             l.ratio.value.map(Self.ratio) ?? ""]
        }
    }

    static func ratio(_ v: Double) -> String { v < 1e4 ? String(format: "%.1f×", v) : NumberText.value(v) + "×" }

    static let header = ["#", "node", "op", "scheme w/a", "‖ΔW‖₂", "‖ΔW‖_F", "SQNR dB", "spread", "gain out", "predicted", "share", "measured", "ratio"]

    func text(color: Bool) -> String {
        func bold(_ s: String) -> String { color ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
        var s = "Model    \(model.path)\n"
        s += "Scheme   weights \(weights), activations \(activations) (norms: \(norm))\n"
        if let domain { for d in domain { s += "Domain   \(d)\n" } } else { s += "Domain   none (no output-error bound without one)\n" }
        s += "\n" + bold("Layers (\(layers.count))") + "\n"
        s += TextFormat.table(Self.header, layerRows())
        s += "\n" + bold("Network (output '\(network.output)')") + "\n"
        var rows: [[String]] = [["sound bound on ‖f_Q(x) − f(x)‖₂", NumberText.value(network.bound.value)]]
        if let sup = network.outputSupNorm.value { rows.append(["  sup ‖f(x)‖₂ on the domain", NumberText.value(sup)]) }
        if let m = network.measured {
            rows.append(["measured max ‖f_Q(x) − f(x)‖₂ (\(m.inputs) inputs)", NumberText.value(m.maxError.value)])
            rows.append(["  relative error max / mean", "\(NumberText.value(m.maxRelativeError.value)) / \(NumberText.value(m.meanRelativeError.value))"])
            rows.append(["  SQNR", "\(Self.db(m.sqnrDb)) dB"])
            if let t = m.top1Agreement.value { rows.append(["  top-1 agreement", String(format: "%.1f%%", 100 * t)]) }
            if let r = network.ratio.value { rows.append(["  bound / measured", Self.ratio(r)]) }
            if let k = network.kappa {
                func v(_ n: JSONNumber) -> String { n.value.map(NumberText.value) ?? "n/a" }
                rows.append(["measured κ, DeepFool max (float → quantized weights)", "\(v(k.float.deepfoolMax)) → \(v(k.quantized.deepfoolMax))"])
                rows.append(["measured κ, random max (float → quantized weights)", "\(v(k.float.randomMax)) → \(v(k.quantized.randomMax))"])
            }
        }
        let width = rows.map(\.[0].count).max() ?? 0
        for r in rows { s += "  " + r[0] + String(repeating: " ", count: width - r[0].count + 2) + r[1] + "\n" }
        if let p = plan {
            s += "\n" + bold("Plan (\(p.budget)): \(p.met ? "met" : "NOT met")") + "\n"
            for st in p.steps {
                s += "  \(st.excluded.map { "keep '\($0)' in fp32" } ?? "all quantized"): measured max error \(NumberText.value(st.measured.maxError.value))"
                    + (st.measured.top1Agreement.value.map { String(format: ", top-1 %.1f%%", 100 * $0) } ?? "") + "\n"
            }
            s += "  nodes_to_exclude: [\(p.nodesToExclude.map { "\"\($0)\"" }.joined(separator: ", "))]\n"
        }
        if let g = gate {
            s += "\n\(g.passed ? "PASS" : "FAIL")  \(g.basis.rawValue) error \(NumberText.value(g.value)) (budget \(NumberText.value(g.maxError)))\n"
        }
        for n in notes { s += "note: \(n)\n" }
        for f in findings { s += "\(f.severity.rawValue): [\(f.rule.id)] \(f.message)\n" }
        return s
    }

    func markdown() -> String {
        var s = "### Kappa quant: weights \(weights), activations \(activations)\n\n"
        s += "| " + Self.header.joined(separator: " | ") + " |\n|" + Self.header.map { _ in "---" }.joined(separator: "|") + "|\n"
        for r in layerRows() { s += "| " + r.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n" }
        s += "\nSound bound on the output error: \(NumberText.value(network.bound.value))"
        if let m = network.measured { s += "; measured max \(NumberText.value(m.maxError.value)) on \(m.inputs) inputs" }
        s += "\n"
        if let p = plan { s += "\nPlan (\(p.budget)): \(p.met ? "met" : "not met"); nodes_to_exclude: \(p.nodesToExclude.map { "`\($0)`" }.joined(separator: ", "))\n" }
        if !findings.isEmpty {
            s += "\n"
            for f in findings { s += "- \(f.severity.rawValue) `\(f.rule.id)` \(f.message.replacingOccurrences(of: "|", with: "\\|"))\n" }
        }
        return s
    }
}
