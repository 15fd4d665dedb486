import Foundation

extension ValidationReport {
    /// `--format html`: the settings, the κ-per-input plot (``ValidationPlot``, the paper's
    /// Fig. 3), the Table I block, the observed gain against the bound, the per-input table and
    /// the findings, in one self-contained page.
    public func html() -> String {
        let file = (model.path as NSString).lastPathComponent
        var page = HTMLPage(title: "Kappa validate: \(file)", subtitle: model.path)

        var head = "<div class=\"headline\">\n"
        func box(_ label: String, _ value: String, _ small: String) {
            head += "<div><span class=\"small\">\(HTMLText.escape(label))</span><span class=\"big\">\(HTMLText.escape(value))</span>"
            head += "<span class=\"small\">\(HTMLText.escape(small))</span></div>\n"
        }
        let dfMax = summary.deepfool.max
        box("largest measured κ (DeepFool)", NumberText.value(dfMax?.kappa), "\(NumberText.bits(dfMax?.bits)), \(NumberText.digits(dfMax?.digits)) digits")
        box("observed gain max ‖δy‖/‖δx‖", NumberText.value(summary.observedGainMax.value), "flipped \(summary.flipped) of \(summary.inputs)")
        if let b = summary.bound.value {
            box("bound L (Eq. 7, σ_op)", NumberText.value(b), "tightness L/observed \(NumberText.value(summary.tightness.value))")
        }
        head += "</div>\n"

        var facts: [(String, String)] = [
            ("Model", "<code>\(HTMLText.escape(model.path))</code>"),
            ("Producer", HTMLText.escape(model.producer.isEmpty ? "(not set)" : model.producer)),
            ("Output", "<code>\(HTMLText.escape(settings.output))</code>"),
        ]
        if let p = settings.perturbed { facts.append(("Perturbed", "<code>\(HTMLText.escape(p))</code>")) }
        facts.append(("Inputs", HTMLText.escape("\(inputs.count) of \(settings.totalInputs) (\(settings.inputs))\(shardText)")))
        for o in settings.otherInputs ?? [] { facts.append(("Other input", HTMLText.escape(o))) }
        var df = "top-\(settings.candidates) candidates, ≤ \(settings.maxSteps) steps, overshoot \(settings.overshoot)"
        df += settings.clip.map { ", clip [\(NumberText.value($0[0])), \(NumberText.value($0[1]))]" } ?? ""
        facts.append(("DeepFool", HTMLText.escape(df + "; random seed \(settings.seed)")))
        page.section("summary", "Model summary", head + HTMLPage.facts(facts))

        let caption = "κ = (‖δy‖/‖y‖)/(‖δx‖/‖x‖) per input on a log scale: DeepFool (κ max over its iterates, circles) "
            + "and a random perturbation of the same norm (squares), as in the paper's Fig. 3."
        page.section("plot", "κ per input (cf. Fig. 3)", inputs.isEmpty ? "<p>No inputs measured.</p>\n" : HTMLPage.figure(ValidationPlot.inline(self), caption: caption))

        let table1 = HTMLTable(caption: "Table I: κ on '\(settings.output)' and the precision it costs", header: ["", "", "κ", "digits", "bits"],
                               rows: tableI.map { r in [.text(r[0]), .text(r[1]), .text(r[2], numeric: true), .text(r[3], numeric: true), .text(r[4], numeric: true)] },
                               id: "table1-table")
        var t1 = table1.html
        t1 += "<p>Observed gain max ‖δy‖/‖δx‖ = \(HTMLText.num(summary.observedGainMax.value))"
        if let b = summary.bound.value { t1 += "; bound L = \(HTMLText.num(b)), tightness L/observed = \(HTMLText.num(summary.tightness.value))" }
        t1 += "; flipped \(summary.flipped) of \(summary.inputs).</p>\n"
        page.section("table1", "Table I", t1)

        let rows: [[HTMLTable.Cell]] = rowCells.map { r in
            r.enumerated().map { j, c in j == 1 ? .html("<code>\(HTMLText.escape(c))</code>") : .text(c, numeric: j != 4) }
        }
        page.section("inputs", "Per-input measurements", HTMLTable(caption: "Inputs (\(inputs.count))", header: Self.rowHeader, rows: rows, id: "inputs-table").html)
        page.section("findings", "Findings", HTMLPage.findings(findings))
        return page.html
    }
}

extension CheckReport {
    /// `--format html`: the verdict, one row per model (κ, digits, bits, result), read errors
    /// and findings.
    public func html() -> String {
        var page = HTMLPage(title: "Kappa check: \(passed ? "passed" : "failed")",
                            subtitle: "budget \(maxBits) bits, gate on \(gateLabel)")
        var rows: [[HTMLTable.Cell]] = models.map { e in
            [.html("<code>\(HTMLText.escape(e.model.path))</code>"), .html("<code>\(HTMLText.escape(e.output))</code>"), .number(e.precision.kappa),
             .text(NumberText.digits(e.precision.digits), numeric: true), .text(NumberText.bitCount(e.precision.bits), numeric: true),
             .text(e.passed ? "pass" : "fail", classes: [e.passed ? "good" : "bad"])]
        }
        rows += errors.map { e in
            [.html("<code>\(HTMLText.escape(e.path))</code>"), .text(""), .text(""), .text(""), .text(""), .text("error: \(e.error)", classes: ["bad"])]
        }
        let verdict = "<p class=\"\(passed ? "good" : "bad")\">\(passed ? "passed" : "failed"): \(models.filter(\.passed).count) of \(models.count + errors.count) model(s) within \(maxBits) bits.</p>\n"
        page.section("models", "Models", verdict + HTMLTable(caption: "Gate: \(gateLabel), budget \(maxBits) bits", header: ["model", "output", "κ", "digits", "bits", "result"],
                                                             rows: rows, id: "models-table").html)
        page.section("findings", "Findings", HTMLPage.findings(findings))
        return page.html
    }
}
