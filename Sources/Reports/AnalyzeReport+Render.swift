import Foundation

extension AnalyzeReport {
    /// "digits / bits" of a precision value.
    static func digitsBits(_ p: Precision) -> String {
        "\(NumberText.digits(p.digits)) / \(NumberText.bitCount(p.bits))"
    }

    func text(color: Bool) -> String {
        func bold(_ s: String) -> String { color ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
        func red(_ s: String) -> String { color ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
        var s = ""
        let opsets = model.opsets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        s += "Model    \(model.path) · \(model.producer.isEmpty ? "(no producer)" : model.producer) · IR \(model.irVersion) · opsets \(opsets)\n"
        s += "Input    \(network.perturbed.map(\.description).joined(separator: ", "))\n"
        s += "Output   \(network.output) (\(network.outputChoice))\n"
        s += "Norms    \(norm == "operator" ? "operator: conv σ_op lower by Lanczos on AᵀA, upper = min(√c·σ_matrix, circulant-symbol bound)" : "matrix: conv σ_op ≤ √c·σ_matrix (use --norm operator to tighten)")\n\n"
        let rows = layers.map { l -> [String] in
            let sigmaOp = l.sigmaOp.map { "[\(NumberText.value($0.lower.value)), \(NumberText.value($0.upper.value))]" } ?? ""
            let shape = l.weightShape.map { $0.map(String.init).joined(separator: "×") } ?? ""
            return [String(l.index), l.node, l.op, shape, NumberText.value(l.frobenius.value), NumberText.value(l.sigmaMatrix.value), sigmaOp,
                    NumberText.value(l.lipschitz.matrix.bound), NumberText.value(l.lipschitz.operator.bound),
                    NumberText.value(l.gainFromInput.operator.bound), NumberText.value(l.gainToOutput.operator.bound),
                    NumberText.percent(l.share?.matrix.value),
                    l.status == .ok ? (l.weight == nil ? (l.reason ?? "") : "") : red(l.status.rawValue) + ": " + (l.reason ?? "")]
        }
        s += bold("Layers (\(layers.count))") + "\n"
        s += TextFormat.table(["#", "node", "op", "weight", "‖W‖_F", "σ_matrix", "σ_op [lower, upper]", "L matrix", "L operator",
                               "gain in", "gain out", "share", "note"], rows)
        let p = network.precision
        s += "\n" + bold("Network (output '\(network.output)')") + "\n"
        s += TextFormat.table(["", "matrix (paper)", "operator (sound)"], [
            ["Eq. 7 gain bound L", NumberText.value(network.eq7.matrix.bound), NumberText.value(network.eq7.operator.bound)],
            ["  digits / bits", Self.digitsBits(p.eq7.matrix), Self.digitsBits(p.eq7.operator)],
            ["Eq. 8 rounding E (\(network.roundingPoints) point\(network.roundingPoints == 1 ? "" : "s"))", NumberText.value(network.eq8.matrix.bound), NumberText.value(network.eq8.operator.bound)],
            ["  digits / bits", Self.digitsBits(p.eq8.matrix), Self.digitsBits(p.eq8.operator)],
        ])
        if let t = network.tightening { s += "\n" + bold("Tightenings of Eq. 7 (DESIGN.md §1.9; every value sound in the operator column)") + "\n" + Self.tighteningText(t) }
        if let b = bracket {
            s += "\n" + bold("Bracket on the input domain\(b.empirical ? " (empirical: observed ranges, not a guarantee)" : "")") + "\n"
            for d in b.domain { s += "  \(d)\n" }
            var rows: [[String]] = []
            if let l = b.lower {
                rows.append(["lower ℓ: largest local ‖J‖ found (certified)", NumberText.value(l.value.value), Self.digitsBits(b.precision.lower ?? Precision(kappa: .nan)),
                             "\(l.point), \(l.reversePasses) reverse passes, \(String(format: "%.1f", l.seconds)) s"])
            } else {
                rows.append(["lower ℓ", NumberText.missing, NumberText.missing, "not searched (--lower-budget 0)"])
            }
            rows.append(["upper L: sound Eq. 7 on the domain", NumberText.value(b.upper.bound), Self.digitsBits(b.precision.upper), ""])
            s += TextFormat.table(["", "value", "digits / bits", "how"], rows)
            if let w = b.widthOrders.value {
                s += "  width: L/ℓ = 10^\(String(format: "%.2f", w)) (\(String(format: "%.2f", w)) orders of magnitude)\n"
            }
        }
        if !findings.isEmpty { s += "\n" }
        for f in findings { s += (f.severity == .error ? red(f.severity.rawValue) : f.severity.rawValue) + ": [\(f.rule.id)] \(f.message)\n" }
        for n in notes { s += "note: \(n)\n" }
        return s
    }

    static func factorText(_ f: JSONNumber) -> String {
        guard let v = f.value, v.isFinite else { return NumberText.missing }
        return "×" + NumberText.value(v)
    }

    /// The rows plain / folded / rescaled and the layers that gained most.
    static func tighteningText(_ t: Tightening) -> String {
        var s = TextFormat.table(["", "matrix (paper)", "operator (sound)", "gained (operator)", "digits / bits (operator)"], [
            ["plain product (as above)", NumberText.value(t.plain.matrix.bound), NumberText.value(t.plain.operator.bound), "", ""],
            ["BatchNorm/constants folded", NumberText.value(t.folded.eq7.matrix.bound), NumberText.value(t.folded.eq7.operator.bound),
             factorText(t.folded.factor.operator), digitsBits(t.folded.precision.operator)],
            ["optimised diagonal rescaling", NumberText.value(t.rescaled.eq7.matrix.bound), NumberText.value(t.rescaled.eq7.operator.bound),
             factorText(t.rescaled.factor.operator), digitsBits(t.rescaled.precision.operator)],
        ])
        s += "  \(t.foldedChannels) channel\(t.foldedChannels == 1 ? "" : "s") folded, \(t.freeScalings) free scaling group\(t.freeScalings == 1 ? "" : "s"), \(t.evaluations) evaluations; best point: \(t.best)\n"
        if !t.mostGained.isEmpty {
            s += "  layers that gained most (L operator before → after): "
                + t.mostGained.prefix(3).map { "\($0.node) \(NumberText.value($0.before.value)) → \(NumberText.value($0.after.value)) (\(factorText($0.factor)))" }
                    .joined(separator: "; ") + "\n"
        }
        return s
    }

    func markdown() -> String {
        let p = network.precision
        var s = "### Kappa analyze: `\(model.path)`\n\n"
        s += "Input \(network.perturbed.map { "`\($0.tensor)`" }.joined(separator: ", ")) · output `\(network.output)` · norms: \(norm)\n\n"
        s += "| bound | matrix (paper) | operator (sound) |\n|---|---:|---:|\n"
        s += "| Eq. 7 gain L | \(NumberText.value(network.eq7.matrix.bound)) | \(NumberText.value(network.eq7.operator.bound)) |\n"
        s += "| digits / bits | \(Self.digitsBits(p.eq7.matrix)) | \(Self.digitsBits(p.eq7.operator)) |\n"
        s += "| Eq. 8 rounding E | \(NumberText.value(network.eq8.matrix.bound)) | \(NumberText.value(network.eq8.operator.bound)) |\n"
        s += "| digits / bits | \(Self.digitsBits(p.eq8.matrix)) | \(Self.digitsBits(p.eq8.operator)) |\n"
        if let t = network.tightening {
            s += "| Eq. 7, BatchNorm/constants folded | \(NumberText.value(t.folded.eq7.matrix.bound)) | \(NumberText.value(t.folded.eq7.operator.bound)) (\(Self.factorText(t.folded.factor.operator))) |\n"
            s += "| Eq. 7, optimised diagonal rescaling | \(NumberText.value(t.rescaled.eq7.matrix.bound)) | \(NumberText.value(t.rescaled.eq7.operator.bound)) (\(Self.factorText(t.rescaled.factor.operator))) |\n"
            s += "| digits / bits, rescaled | \(Self.digitsBits(t.rescaled.precision.matrix)) | \(Self.digitsBits(t.rescaled.precision.operator)) |\n"
            if !t.mostGained.isEmpty {
                s += "\nLayers that gained most from the rescaling: " + t.mostGained.prefix(3).map {
                    "`\($0.node.replacingOccurrences(of: "|", with: "\\|"))` \(NumberText.value($0.before.value)) → \(NumberText.value($0.after.value)) (\(Self.factorText($0.factor)))"
                }.joined(separator: ", ") + ".\n"
            }
        }
        s += "\n"
        if let b = bracket {
            s += "**Bracket on the input domain**\(b.empirical ? " (empirical)" : ""): " + b.domain.map { "`\($0)`" }.joined(separator: ", ") + "\n\n"
            s += "| end | value | digits / bits |\n|---|---:|---:|\n"
            s += "| lower ℓ (certified) | \(NumberText.value(b.lower?.value.value)) | \(b.precision.lower.map(Self.digitsBits) ?? "–") |\n"
            s += "| upper L (sound) | \(NumberText.value(b.upper.bound)) | \(Self.digitsBits(b.precision.upper)) |\n"
            if let w = b.widthOrders.value { s += "\nWidth L/ℓ = 10^\(String(format: "%.2f", w)).\n" }
            s += "\n"
        }
        s += "| # | node | op | σ_matrix | σ_op upper | L operator | gain in | gain out | status |\n|---:|---|---|---:|---:|---:|---:|---:|---|\n"
        for l in layers {
            let name = l.node.replacingOccurrences(of: "|", with: "\\|")
            s += "| \(l.index) | `\(name)` | \(l.op) | \(NumberText.value(l.sigmaMatrix.value)) | \(NumberText.value(l.sigmaOp?.upper.value)) | \(NumberText.value(l.lipschitz.operator.bound)) | \(NumberText.value(l.gainFromInput.operator.bound)) | \(NumberText.value(l.gainToOutput.operator.bound)) | \(l.status.rawValue) |\n"
        }
        if !findings.isEmpty {
            s += "\n**Findings**\n\n"
            for f in findings { s += "- \(f.severity.rawValue) `\(f.rule.id)`: \(f.message.replacingOccurrences(of: "|", with: "\\|"))\n" }
        }
        return s
    }

    func csv() -> String {
        var s = "index,node,op,weight,weight_shape,frobenius,sigma_matrix,sigma_op_lower,sigma_op_upper,lipschitz_matrix,lipschitz_operator,"
            + "gain_from_input_matrix,gain_from_input_operator,gain_to_output_matrix,gain_to_output_operator,share_matrix,share_operator,iterations,status,reason,"
            + "lipschitz_folded_operator,lipschitz_rescaled_operator\n"
        for l in layers {
            let cells: [String] = [String(l.index), l.node, l.op, l.weight ?? "", l.weightShape.map { $0.map(String.init).joined(separator: "x") } ?? "",
                                   NumberText.csv(l.frobenius.value), NumberText.csv(l.sigmaMatrix.value), NumberText.csv(l.sigmaOp?.lower.value), NumberText.csv(l.sigmaOp?.upper.value),
                                   NumberText.csv(l.lipschitz.matrix.value), NumberText.csv(l.lipschitz.operator.value),
                                   NumberText.csv(l.gainFromInput.matrix.value), NumberText.csv(l.gainFromInput.operator.value),
                                   NumberText.csv(l.gainToOutput.matrix.value), NumberText.csv(l.gainToOutput.operator.value),
                                   NumberText.csv(l.share?.matrix.value), NumberText.csv(l.share?.operator.value),
                                   l.iterations.map(String.init) ?? "", l.status.rawValue, l.reason ?? "",
                                   NumberText.csv(l.lipschitzFolded?.operator.value), NumberText.csv(l.lipschitzRescaled?.operator.value)]
            s += cells.map(FindingsRenderer.csvField).joined(separator: ",") + "\n"
        }
        return s
    }
}
