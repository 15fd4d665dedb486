import Foundation

extension QuantReport {
    /// The layers that dominate the predicted output error: the largest shares, largest first,
    /// until together they hold at least `fraction` of the bound or `limit` layers are taken.
    public static func dominantLayers(_ layers: [Layer], fraction: Double = 0.5, limit: Int = 5) -> [Int] {
        leadingShares(layers.indices.compactMap { i -> (Int, Double)? in
            guard let s = layers[i].share.value, s > 0 else { return nil }
            return (i, s)
        }, fraction: fraction, limit: limit)
    }

    /// The per-layer error chart: each layer's predicted contribution to the output error
    /// (the sound bound's term, bars from the bottom edge) and, with inputs, the measured max
    /// output error with that layer alone quantized (line), on one log axis.
    public func errorChart(dominant: [Int]) -> LayerChart {
        var series: [LayerChart.Series] = [
            .init(name: "predicted error (sound bound's term)", values: layers.map { $0.predicted.value }, kind: .bars(baseline: nil), cssClass: "bar"),
        ]
        if layers.contains(where: { $0.measured != nil }) {
            series.append(.init(name: "measured max error, this layer alone", values: layers.map { $0.measured?.maxError.value }, kind: .line, cssClass: "gain"))
        }
        return LayerChart(
            id: "fig-quant",
            title: "Per-layer quantization error",
            description: "For each of \(layers.count) weight layers: bars show the layer's term of the sound output-error bound; "
                + "the line shows the measured error with only that layer quantized. Highlighted layers dominate the bound.",
            yLabel: "output error (log scale)",
            labels: layers.map { String($0.index) },
            tooltips: layers.map { "#\($0.index) \($0.node) (\($0.op)): \($0.weights)/\($0.activations)" },
            series: series, highlighted: Set(dominant), highlightLegend: "dominates the bound")
    }

    /// `--format html`: one self-contained page (inline CSS and SVG, no script, no network).
    public func html() -> String {
        let file = (model.path as NSString).lastPathComponent
        var page = HTMLPage(title: "Kappa quant: \(file)", subtitle: model.path)
        let dominant = Self.dominantLayers(layers)

        var head = "<div class=\"headline\">\n"
        func box(_ label: String, _ value: String, _ small: String) {
            head += "<div><span class=\"small\">\(HTMLText.escape(label))</span><span class=\"big\" data-kappa=\"\(HTMLText.escape(label))\">\(HTMLText.escape(value))</span>"
            head += "<span class=\"small\">\(HTMLText.escape(small))</span></div>\n"
        }
        box("sound bound on the output error", NumberText.value(network.bound.value), "‖f_Q(x) − f(x)‖ on the domain")
        if let m = network.measured {
            box("measured max error, all layers", NumberText.value(m.maxError.value),
                "SQNR \(m.sqnrDb.value.map { String(format: "%.1f", $0) } ?? NumberText.missing) dB, top-1 \(NumberText.percent(m.top1Agreement.value))")
        }
        if let g = gate { box("gate (--max-error \(NumberText.value(g.maxError)))", g.passed ? "PASS" : "FAIL", "\(g.basis.rawValue) error \(NumberText.value(g.value))") }
        head += "</div>\n"
        var facts: [(String, String)] = [
            ("Model", "<code>\(HTMLText.escape(model.path))</code>"),
            ("Schemes", HTMLText.escape("weights \(weights), activations \(activations)")),
            ("Output", "<code>\(HTMLText.escape(network.output))</code>"),
            ("Norms", HTMLText.escape(norm)),
        ]
        if let domain { facts.append(("Domain", domain.map { "<code>\(HTMLText.escape($0))</code>" }.joined(separator: ", "))) }
        if let n = network.forwardPasses { facts.append(("Measurement", "\(n) forward passes")) }
        if let k = network.kappa {
            func v(_ n: JSONNumber) -> String { n.value.map(NumberText.value) ?? "n/a" }
            facts.append(("Measured κ (float → quantized weights)",
                          HTMLText.escape("DeepFool max \(v(k.float.deepfoolMax)) → \(v(k.quantized.deepfoolMax)); random max \(v(k.float.randomMax)) → \(v(k.quantized.randomMax))")))
        }
        page.section("summary", "Summary", head + HTMLPage.facts(facts))

        let caption = "Bars: each layer's term of the sound bound (‖ΔW‖₂·sup‖x‖ and the activation rounding, times the gain to the output). "
            + (layers.contains { $0.measured != nil } ? "Line: the measured error with that layer alone quantized (the bar must be at or above it). " : "")
            + (dominant.isEmpty ? "" : "Highlighted: the layers holding half of the bound: "
                + dominant.map { "#\(layers[$0].index) <code>\(HTMLText.escape(layers[$0].node))</code>" }.joined(separator: ", ") + ".")
        page.section("chart", "Per-layer error chart", layers.isEmpty ? "<p>No weight layers.</p>\n" : HTMLPage.figure(errorChart(dominant: dominant).svg(), caption: caption))

        let set = Set(dominant)
        let rows: [[HTMLTable.Cell]] = layers.map { l in
            [.text(String(l.index), numeric: true), .html("<code>\(HTMLText.escape(l.node))</code>"), .text(l.op), .text("\(l.weights)/\(l.activations)"),
             .number(l.deltaSigma.value), .number(l.deltaFrobenius.value), .number(l.sqnrDb.value), .number(l.channelSpread.value),
             .number(l.gainToOutput.value), .number(l.predicted.value), .text(NumberText.percent(l.share.value), numeric: true),
             .number(l.measured?.maxError.value), .number(l.ratio.value)]
        }
        let table = HTMLTable(caption: "Weight layers (\(layers.count)); ◆ dominates the bound",
                              header: ["#", "node", "op", "scheme", "‖ΔW‖₂", "‖ΔW‖_F", "SQNR dB", "channel spread", "gain to output",
                                       "predicted", "share", "measured", "predicted / measured"],
                              rows: rows, rowClasses: layers.indices.map { set.contains($0) ? ["driver"] : [] }, rowHeaders: true, id: "quant-table")
        page.section("layers", "Layer table", table.html)
        if let plan {
            var body = "<p>Budget \(HTMLText.escape(plan.budget)): \(plan.met ? "met" : "not met").</p>\n"
            body += "<p>nodes_to_exclude: " + (plan.nodesToExclude.isEmpty ? "none" : plan.nodesToExclude.map { "<code>\(HTMLText.escape($0))</code>" }.joined(separator: ", ")) + "</p>\n"
            body += HTMLTable(caption: "Greedy steps", header: ["step", "kept in float", "measured max error", "top-1"], rows: plan.steps.enumerated().map { i, s in
                [.text(String(i), numeric: true), .text(s.excluded ?? "(none)"), .number(s.measured.maxError.value), .text(NumberText.percent(s.measured.top1Agreement.value), numeric: true)]
            }, rowHeaders: true, id: "plan-table").html
            page.section("plan", "Mixed-precision plan", body)
        }
        page.section("findings", "Findings", HTMLPage.findings(findings, notes: notes))
        return page.html
    }
}

extension DiffReport {
    /// `--format html`: the matched layers' weight drift as a chart (relative ‖ΔW‖_F/‖W‖_F per
    /// layer, log scale; layers over `--max-divergence` highlighted) and a table.
    public func html() -> String {
        let file = (export.path as NSString).lastPathComponent
        var page = HTMLPage(title: "Kappa diff: \(file)", subtitle: "\(model.path) → \(export.path)")
        let over = Set(layers.indices.filter { i in maxDivergence.map { (layers[i].relative.value ?? .infinity) > $0 } ?? false })
        page.section("summary", "Summary", HTMLPage.facts([
            ("Float", "<code>\(HTMLText.escape(model.path))</code>"),
            ("Export", "<code>\(HTMLText.escape(export.path))</code>"),
            ("Matched", "\(layers.count) layers; unmatched: \(unmatchedFloat.count) float, \(unmatchedExport.count) export"),
            ("Max relative drift", HTMLText.escape(NumberText.value(maxRelative) + (maxDivergence.map { " (budget \(NumberText.value($0)): \(passed ? "PASS" : "FAIL"))" } ?? ""))),
        ]))
        let chart = LayerChart(
            id: "fig-diff", title: "Per-layer weight drift",
            description: "For each of \(layers.count) matched layers: ‖ΔW‖_F/‖W‖_F of the export against the float model (log scale).",
            yLabel: "relative drift (log scale)", labels: layers.indices.map { String($0 + 1) },
            tooltips: layers.map { "\($0.floatNode) → \($0.exportNode)" },
            series: [.init(name: "‖ΔW‖_F / ‖W‖_F", values: layers.map { $0.relative.value }, kind: .bars(baseline: nil), cssClass: "bar")],
            highlighted: over, highlightLegend: "over --max-divergence")
        page.section("chart", "Per-layer error chart", layers.isEmpty ? "<p>No matched layers.</p>\n"
                     : HTMLPage.figure(chart.svg(), caption: "Bars: the relative weight drift of each matched layer. Highlighted: layers over the --max-divergence budget."))
        let rows: [[HTMLTable.Cell]] = layers.enumerated().map { i, l in
            [.text(String(i + 1), numeric: true), .html("<code>\(HTMLText.escape(l.floatNode))</code>"), .html("<code>\(HTMLText.escape(l.exportNode))</code>"),
             .text("\(l.floatOp)→\(l.exportOp)"), .text(l.matchedBy), .number(l.deltaSigma.value), .number(l.deltaFrobenius.value),
             .number(l.relative.value), .number(l.sqnrDb.value)]
        }
        var body = HTMLTable(caption: "Matched layers (\(layers.count))", header: ["#", "float", "export", "ops", "matched by", "‖ΔW‖₂", "‖ΔW‖_F", "relative", "SQNR dB"],
                             rows: rows, rowClasses: layers.indices.map { over.contains($0) ? ["driver"] : [] }, rowHeaders: true, id: "diff-table").html
        for u in unmatchedFloat { body += "<p>unmatched float layer: <code>\(HTMLText.escape(u.node))</code> (\(HTMLText.escape(u.op)))</p>\n" }
        for u in unmatchedExport { body += "<p>unmatched export layer: <code>\(HTMLText.escape(u.node))</code> (\(HTMLText.escape(u.op)))</p>\n" }
        page.section("layers", "Layer table", body)
        if let d = divergence {
            let m = d.measured
            var div = "<p>Output <code>\(HTMLText.escape(d.output))</code> on \(m.inputs) inputs: max ‖Δy‖₂ \(HTMLText.escape(NumberText.value(m.maxError.value))), "
                + "relative max / mean \(HTMLText.escape(NumberText.value(m.maxRelativeError.value))) / \(HTMLText.escape(NumberText.value(m.meanRelativeError.value))), "
                + "top-1 agreement \(HTMLText.escape(NumberText.percent(m.top1Agreement.value))).</p>\n"
            let arows: [[HTMLTable.Cell]] = d.activations.map { a in
                [.html("<code>\(HTMLText.escape(a.tensor))</code>"), .text(a.from ?? "(inputs)"), .number(a.localMax.value), .number(a.cumulativeMax.value)]
            }
            div += HTMLTable(caption: "Matched activations (\(d.activations.count)): relative divergence, max over the inputs",
                             header: ["tensor", "local from", "local", "cumulative"], rows: arows, rowHeaders: true, id: "diff-activations").html
            page.section("divergence", "Divergence on inputs", div)
        }
        page.section("findings", "Findings", HTMLPage.findings(findings))
        return page.html
    }
}
