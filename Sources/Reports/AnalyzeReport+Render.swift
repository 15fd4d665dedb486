import Foundation

/// Number formatting shared by the analyze/check renderers: 4 significant digits,
/// "∞" for an unbounded value, "–" for a value that was not computed.
enum Fmt {
    static func num(_ v: Double?) -> String {
        guard let v else { return "unbounded" }
        return String(format: "%.4g", v)
    }
    static func opt(_ v: Double?) -> String { v.map { String(format: "%.4g", $0) } ?? "–" }
    static func gain(_ j: JSONNumber) -> String { j.value.map { String(format: "%.4g", $0) } ?? "∞" }
    static func bits(_ b: Int?) -> String { b.map { "\($0) bits" } ?? "unbounded" }
    static func digits(_ d: Double?) -> String { d.map { String(format: "%.2f", $0) } ?? "–" }
    static func csv(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
}

extension AnalyzeReport {
    func text(color: Bool) -> String {
        func bold(_ s: String) -> String { color ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
        func red(_ s: String) -> String { color ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
        var s = ""
        let opsets = model.opsets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        s += "Model    \(model.path) · \(model.producer.isEmpty ? "(no producer)" : model.producer) · IR \(model.irVersion) · opsets \(opsets)\n"
        s += "Output   \(network.output)\n"
        s += "Norms    \(norm == "operator" ? "operator: conv σ_op lower by Lanczos on AᵀA, upper = min(√c·σ_matrix, circulant-symbol bound)" : "matrix: conv σ_op ≤ √c·σ_matrix (use --norm operator to tighten)")\n\n"
        let rows = layers.map { l -> [String] in
            let sigmaOp = l.sigmaOp.map { "[\(Fmt.opt($0.lower.value)), \(Fmt.opt($0.upper.value))]" } ?? ""
            let shape = l.weightShape.map { $0.map(String.init).joined(separator: "×") } ?? ""
            return [String(l.index), l.node, l.op, shape, Fmt.opt(l.frobenius.value), Fmt.opt(l.sigmaMatrix.value), sigmaOp,
                    Fmt.gain(l.lipschitz.matrix), Fmt.gain(l.lipschitz.operator),
                    Fmt.gain(l.gainFromInput.operator), Fmt.gain(l.gainToOutput.operator),
                    l.share.flatMap { $0.matrix.value }.map { String(format: "%.0f%%", 100 * $0) } ?? "",
                    l.status == "ok" ? (l.weight == nil ? (l.reason ?? "") : "") : red(l.status) + ": " + (l.reason ?? "")]
        }
        s += bold("Layers (\(layers.count))") + "\n"
        s += TextFormat.table(["#", "node", "op", "weight", "‖W‖_F", "σ_matrix", "σ_op [lower, upper]", "L matrix", "L op",
                               "gain in", "gain out", "share", "note"], rows)
        let p = network.precision
        s += "\n" + bold("Network (output '\(network.output)')") + "\n"
        s += TextFormat.table(["", "matrix (paper)", "operator (sound)"], [
            ["Eq. 7 gain bound L", Fmt.gain(network.eq7.matrix), Fmt.gain(network.eq7.operator)],
            ["  digits / bits", "\(Fmt.digits(p.eq7.matrix.digits.value)) / \(p.eq7.matrix.bits.map(String.init) ?? "–")",
             "\(Fmt.digits(p.eq7.operator.digits.value)) / \(p.eq7.operator.bits.map(String.init) ?? "–")"],
            ["Eq. 8 rounding E (\(network.roundingPoints) points)", Fmt.gain(network.eq8.matrix), Fmt.gain(network.eq8.operator)],
            ["  digits / bits", "\(Fmt.digits(p.eq8.matrix.digits.value)) / \(p.eq8.matrix.bits.map(String.init) ?? "–")",
             "\(Fmt.digits(p.eq8.operator.digits.value)) / \(p.eq8.operator.bits.map(String.init) ?? "–")"],
        ])
        if !findings.isEmpty { s += "\n" }
        for f in findings { s += (f.severity == .error ? red(f.severity.rawValue) : f.severity.rawValue) + ": [\(f.rule)] \(f.message)\n" }
        for n in notes { s += "note: \(n)\n" }
        return s
    }

    func markdown() -> String {
        let p = network.precision
        var s = "### Kappa analyze: `\(model.path)`\n\n"
        s += "Output `\(network.output)` · norms: \(norm)\n\n"
        s += "| bound | matrix (paper) | operator (sound) |\n|---|---:|---:|\n"
        s += "| Eq. 7 gain L | \(Fmt.gain(network.eq7.matrix)) | \(Fmt.gain(network.eq7.operator)) |\n"
        s += "| digits / bits | \(Fmt.digits(p.eq7.matrix.digits.value)) / \(p.eq7.matrix.bits.map(String.init) ?? "–") | \(Fmt.digits(p.eq7.operator.digits.value)) / \(p.eq7.operator.bits.map(String.init) ?? "–") |\n"
        s += "| Eq. 8 rounding E | \(Fmt.gain(network.eq8.matrix)) | \(Fmt.gain(network.eq8.operator)) |\n"
        s += "| digits / bits | \(Fmt.digits(p.eq8.matrix.digits.value)) / \(p.eq8.matrix.bits.map(String.init) ?? "–") | \(Fmt.digits(p.eq8.operator.digits.value)) / \(p.eq8.operator.bits.map(String.init) ?? "–") |\n\n"
        s += "| # | node | op | σ_matrix | σ_op upper | L op | gain in | gain out | status |\n|---:|---|---|---:|---:|---:|---:|---:|---|\n"
        for l in layers {
            let name = l.node.replacingOccurrences(of: "|", with: "\\|")
            s += "| \(l.index) | `\(name)` | \(l.op) | \(Fmt.opt(l.sigmaMatrix.value)) | \(Fmt.opt(l.sigmaOp?.upper.value)) | \(Fmt.gain(l.lipschitz.operator)) | \(Fmt.gain(l.gainFromInput.operator)) | \(Fmt.gain(l.gainToOutput.operator)) | \(l.status) |\n"
        }
        if !findings.isEmpty {
            s += "\n**Findings**\n\n"
            for f in findings { s += "- \(f.severity.rawValue) `\(f.rule)`: \(f.message.replacingOccurrences(of: "|", with: "\\|"))\n" }
        }
        return s
    }

    func csv() -> String {
        var s = "index,node,op,weight,weight_shape,frobenius,sigma_matrix,sigma_op_lower,sigma_op_upper,lipschitz_matrix,lipschitz_operator,"
            + "gain_from_input_matrix,gain_from_input_operator,gain_to_output_matrix,gain_to_output_operator,share_matrix,share_operator,iterations,status,reason\n"
        for l in layers {
            let cells: [String] = [String(l.index), l.node, l.op, l.weight ?? "", l.weightShape.map { $0.map(String.init).joined(separator: "x") } ?? "",
                                   Fmt.csv(l.frobenius.value), Fmt.csv(l.sigmaMatrix.value), Fmt.csv(l.sigmaOp?.lower.value), Fmt.csv(l.sigmaOp?.upper.value),
                                   Fmt.csv(l.lipschitz.matrix.value), Fmt.csv(l.lipschitz.operator.value),
                                   Fmt.csv(l.gainFromInput.matrix.value), Fmt.csv(l.gainFromInput.operator.value),
                                   Fmt.csv(l.gainToOutput.matrix.value), Fmt.csv(l.gainToOutput.operator.value),
                                   Fmt.csv(l.share?.matrix.value), Fmt.csv(l.share?.operator.value),
                                   l.iterations.map(String.init) ?? "", l.status, l.reason ?? ""]
            s += cells.map(FindingsRenderer.csvField).joined(separator: ",") + "\n"
        }
        return s
    }
}
