import Foundation

/// The indices with the largest shares, largest first (ties by index), until together they
/// hold at least `fraction` or `limit` are taken: the highlighted layers of the HTML charts.
func leadingShares(_ shares: [(Int, Double)], fraction: Double, limit: Int) -> [Int] {
    var picked: [Int] = []
    var held = 0.0
    for (i, share) in shares.sorted(by: { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }) where held < fraction && picked.count < limit {
        picked.append(i)
        held += share
    }
    return picked
}

extension AnalyzeReport {
    /// The layers that drive the sound (operator-column) Eq. 7 bound B, as indices into
    /// `layers`: every layer whose L is unbounded, and — when B is finite and > 1 — the
    /// amplifying layers (L > 1) with the largest shares log L / log B of the bound's bits,
    /// largest first, until together they hold at least `fraction` of those bits or `limit`
    /// layers are taken. A bound ≤ 1 has no driver (nothing amplifies).
    public static func drivingLayers(_ layers: [Layer], bound: Double, fraction: Double = 0.5, limit: Int = 5) -> [Int] {
        let unbounded = layers.indices.filter { layers[$0].lipschitz.operator.value == nil }  // null: unbounded
        guard bound.isFinite, bound > 1 else { return unbounded }
        let amplifying = layers.indices.compactMap { i -> (Int, Double)? in
            guard let l = layers[i].lipschitz.operator.value, l > 1 else { return nil }
            return (i, log(l) / log(bound))
        }
        return unbounded + leadingShares(amplifying, fraction: fraction, limit: limit).filter { !unbounded.contains($0) }
    }

    /// The per-layer chart in the manner of the paper's Fig. 2, as inline SVG: L per layer
    /// (operator column: scale·σ_op upper, a sound bound) as bars from 1 on a log axis, the
    /// cumulative gain from the perturbed input to each layer's output (Eq. 7 up to that node)
    /// as lines — solid for the sound operator column, dashed for the paper's σ_matrix — and
    /// the driving layers in the highlight colour.
    public func layerChart(drivers: [Int]) -> LayerChart {
        LayerChart(
            id: "fig-layers",
            title: "Per-layer Lipschitz bound and cumulative gain",
            description: "For each of \(layers.count) layers in table order: bars show the layer's bound L (log scale, from 1); "
                + "lines show the gain from the perturbed input to the layer's output. Highlighted layers drive the network bound.",
            yLabel: "L and gain (log scale)",
            labels: layers.map { String($0.index) },
            tooltips: layers.map { "#\($0.index) \($0.node) (\($0.op))" },
            series: [
                .init(name: "L per layer (σ_op, sound)", values: layers.map { $0.lipschitz.operator.bound }, kind: .bars(baseline: 1), cssClass: "bar"),
                .init(name: "cumulative gain (σ_op)", values: layers.map { $0.gainFromInput.operator.value }, kind: .line, cssClass: "gain"),
                .init(name: "cumulative gain (σ_matrix, paper)", values: layers.map { $0.gainFromInput.matrix.value }, kind: .line, cssClass: "gain2"),
            ],
            highlighted: Set(drivers))
    }

    /// `--format html`: one self-contained page (inline CSS and SVG, no script, no network).
    public func html() -> String {
        let file = (model.path as NSString).lastPathComponent
        var page = HTMLPage(title: "Kappa analyze: \(file)", subtitle: model.path)
        let p = network.precision
        let drivers = Self.drivingLayers(layers, bound: network.eq7.operator.bound)

        // Headline: the sound bound, the paper's estimate, the bracket.
        var head = "<div class=\"headline\">\n"
        func box(_ label: String, _ value: String, _ small: String) {
            head += "<div><span class=\"small\">\(HTMLText.escape(label))</span><span class=\"big\" data-kappa=\"\(HTMLText.escape(label))\">\(HTMLText.escape(value))</span>"
            head += "<span class=\"small\">\(HTMLText.escape(small))</span></div>\n"
        }
        box("Eq. 7 gain bound L (σ_op, sound)", NumberText.value(network.eq7.operator.bound), "\(NumberText.bits(p.eq7.operator.bits)), \(NumberText.digits(p.eq7.operator.digits)) digits")
        box("Eq. 7 gain L (σ_matrix, paper)", NumberText.value(network.eq7.matrix.bound), "\(NumberText.bits(p.eq7.matrix.bits)), \(NumberText.digits(p.eq7.matrix.digits)) digits")
        box("Eq. 8 rounding E (σ_op)", NumberText.value(network.eq8.operator.bound), "\(NumberText.bits(p.eq8.operator.bits)), \(NumberText.digits(p.eq8.operator.digits)) digits")
        if let b = bracket {
            box("bracket [ℓ, L] on the input domain", "[\(NumberText.value(b.lower?.value.value)), \(NumberText.value(b.upper.bound))]",
                b.widthOrders.value.map { "width 10^\(String(format: "%.2f", $0))" + (b.empirical ? ", empirical domain" : "") } ?? (b.empirical ? "empirical domain" : ""))
        }
        head += "</div>\n"

        let opsets = model.opsets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let summary = head + HTMLPage.facts([
            ("Model", "<code>\(HTMLText.escape(model.path))</code>"),
            ("Producer", HTMLText.escape(model.producer.isEmpty ? "(not set)" : model.producer)),
            ("IR / opsets", HTMLText.escape("IR \(model.irVersion) · \(opsets)")),
            ("Perturbed", network.perturbed.map { "<code>\(HTMLText.escape($0.description))</code>" }.joined(separator: ", ")),
            ("Output", "<code>\(HTMLText.escape(network.output))</code> (\(HTMLText.escape(network.outputChoice)))"),
            ("Norms", HTMLText.escape(norm == "operator" ? "operator: convolution σ_op upper = min(√c·σ_matrix, circulant-symbol bound)"
                                                        : "matrix: convolution σ_op ≤ √c·σ_matrix (--norm operator tightens it)")),
            ("Layers", "\(layers.count) reported, \(drivers.count) driving the bound"),
        ])
        page.section("summary", "Model summary", summary)

        // Network bounds, as the text report's table.
        let bounds = HTMLTable(caption: "Network bounds on output '\(network.output)'", header: ["", "matrix (paper)", "operator (sound)"], rows: [
            [.text("Eq. 7 gain bound L"), .number(network.eq7.matrix.bound), .number(network.eq7.operator.bound)],
            [.text("digits / bits"), .text(Self.digitsBits(p.eq7.matrix), numeric: true), .text(Self.digitsBits(p.eq7.operator), numeric: true)],
            [.text("Eq. 8 rounding E (\(network.roundingPoints) point\(network.roundingPoints == 1 ? "" : "s"))"), .number(network.eq8.matrix.bound), .number(network.eq8.operator.bound)],
            [.text("digits / bits"), .text(Self.digitsBits(p.eq8.matrix), numeric: true), .text(Self.digitsBits(p.eq8.operator), numeric: true)],
        ], rowHeaders: true, id: "bounds-table")
        var boundsBody = bounds.html
        if let b = bracket {
            boundsBody += "<h3>Bracket on the input domain\(b.empirical ? " (empirical: observed ranges, not a guarantee)" : "")</h3>\n<ul>"
            for d in b.domain { boundsBody += "<li><code>\(HTMLText.escape(d))</code></li>" }
            boundsBody += "</ul>\n"
            var rows: [[HTMLTable.Cell]] = []
            if let l = b.lower {
                rows.append([.text("lower ℓ: largest local ‖J‖ found (certified)"), .number(l.value.value),
                             .text(Self.digitsBits(b.precision.lower ?? Precision(kappa: .nan)), numeric: true),
                             .text("\(l.point), \(l.reversePasses) reverse passes, \(String(format: "%.1f", l.seconds)) s")])
            } else {
                rows.append([.text("lower ℓ"), .text(NumberText.missing, numeric: true), .text(NumberText.missing, numeric: true), .text("not searched (--lower-budget 0)")])
            }
            rows.append([.text("upper L: sound Eq. 7 on the domain"), .number(b.upper.bound), .text(Self.digitsBits(b.precision.upper), numeric: true), .text("")])
            boundsBody += HTMLTable(caption: "Bracket [ℓ, L]", header: ["", "value", "digits / bits", "how"], rows: rows, rowHeaders: true, id: "bracket-table").html
            if let w = b.widthOrders.value {
                boundsBody += "<p>Width L/ℓ = 10^\(String(format: "%.2f", w)) (\(String(format: "%.2f", w)) orders of magnitude).</p>\n"
            }
        }
        page.section("bounds", "Network bound and bits", boundsBody)

        // The Fig. 2 chart.
        let chart = layerChart(drivers: drivers)
        var caption = "L per layer (bars from 1; above 1 the layer amplifies) and the cumulative gain g from the perturbed input to each layer's output "
            + "(solid: sound σ_op column; dashed: the paper's σ_matrix). The last point of the gain line is the Eq. 7 bound. "
        caption += drivers.isEmpty ? "No layer amplifies." : "Highlighted: the layers that drive the bound (unbounded ones, and the largest shares of its bits up to half of them, at most 5): "
            + drivers.map { "#\(layers[$0].index) <code>\(HTMLText.escape(layers[$0].node))</code>" }.joined(separator: ", ") + "."
        page.section("chart", "Per-layer chart (cf. Fig. 2)", layers.isEmpty ? "<p>No layers to chart.</p>\n" : HTMLPage.figure(chart.svg(), caption: caption))

        // Layer table.
        let driverSet = Set(drivers)
        let rows: [[HTMLTable.Cell]] = layers.map { l in
            let sigmaOp = l.sigmaOp.map { "[\(NumberText.value($0.lower.value)), \(NumberText.value($0.upper.value))]" } ?? ""
            let shape = l.weightShape.map { $0.map(String.init).joined(separator: "×") } ?? ""
            let note = l.status == .ok ? (l.weight == nil ? (l.reason ?? "") : "") : "\(l.status.rawValue): \(l.reason ?? "")"
            return [.text(String(l.index), numeric: true), .html("<code>\(HTMLText.escape(l.node))</code>"), .text(l.op), .text(shape),
                    .number(l.frobenius.value), .number(l.sigmaMatrix.value), .text(sigmaOp, numeric: true),
                    .number(l.lipschitz.matrix.bound), .number(l.lipschitz.operator.bound),
                    .number(l.gainFromInput.operator.bound), .number(l.gainToOutput.operator.bound),
                    .text(NumberText.percent(l.share?.operator.value), numeric: true),
                    .text(note, classes: l.status == .ok ? [] : ["bad"])]
        }
        let table = HTMLTable(caption: "Layers (\(layers.count)); ◆ drives the bound",
                              header: ["#", "node", "op", "weight", "‖W‖_F", "σ_matrix", "σ_op [lower, upper]", "L matrix", "L operator",
                                       "gain in", "gain out", "share of bits (σ_op)", "note"],
                              rows: rows, rowClasses: layers.indices.map { driverSet.contains($0) ? ["driver"] : [] }, rowHeaders: true, id: "layers-table")
        page.section("layers", "Layer table", table.html)
        page.section("findings", "Findings", HTMLPage.findings(findings, notes: notes))
        return page.html
    }
}
