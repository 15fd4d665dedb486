import Foundation

/// A per-layer chart on a log-scale y axis as inline SVG, for HTML reports: one slot per
/// layer (in table order) on x, bars for one per-layer quantity and lines for running ones.
/// `analyze` draws the paper's Fig. 2 with it (L per layer as bars growing from 1, the
/// cumulative gain as a line); a per-layer error report can draw ‖ΔW‖ bars (baseline nil:
/// from the bottom edge) and an accumulated-error line the same way.
///
/// Styling is by CSS class (``HTMLPage`` defines them for light and dark mode); every mark
/// carries a `<title>` (shown on hover, read by screen readers), and the SVG is labelled by
/// its own `<title>` and `<desc>`.
public struct LayerChart: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Bars from `baseline` (nil: the bottom edge) to the value; +∞ is drawn as a dashed
        /// outline to the top edge marked "∞".
        case bars(baseline: Double?)
        /// A polyline through the positive finite values, broken where one is missing.
        case line
    }

    public struct Series: Sendable {
        public var name: String
        public var values: [Double?]
        public var kind: Kind
        /// CSS class of the marks ("bar", "gain", "gain2", …).
        public var cssClass: String
        public init(name: String, values: [Double?], kind: Kind, cssClass: String) {
            self.name = name
            self.values = values
            self.kind = kind
            self.cssClass = cssClass
        }
    }

    /// Prefix of the SVG's element ids (unique in the page).
    public var id: String
    public var title: String
    public var description: String
    public var yLabel: String
    /// Per layer: the x tick label (e.g. the table index) and the hover text (e.g. node name).
    public var labels: [String]
    public var tooltips: [String]
    public var series: [Series]
    /// Layers drawn in the highlight colour (bars and tick labels).
    public var highlighted: Set<Int>
    public var highlightLegend: String

    public init(id: String, title: String, description: String, yLabel: String, labels: [String], tooltips: [String],
                series: [Series], highlighted: Set<Int> = [], highlightLegend: String = "drives the bound") {
        self.id = id
        self.title = title
        self.description = description
        self.yLabel = yLabel
        self.labels = labels
        self.tooltips = tooltips
        self.series = series
        self.highlighted = highlighted
        self.highlightLegend = highlightLegend
    }

    /// Geometry: margins and the width of one layer's slot.
    static let left = 64.0, right = 16.0, top = 44.0, bottom = 46.0

    /// Slot width: the plot fills `minWidth` for few layers; at least 10 px per layer, so a
    /// deep network makes a wider chart (the page scrolls it horizontally).
    static func slot(count: Int, minWidth: Int) -> Double {
        max(10, (Double(minWidth) - left - right) / Double(max(count, 1)))
    }

    public func svg(minWidth: Int = 900, height: Int = 380) -> String {
        let n = labels.count
        let step = Self.slot(count: n, minWidth: minWidth)
        let plotW = step * Double(max(n, 1))
        let width = Int((Self.left + Self.right + plotW).rounded(.up))
        let h = Double(height) - Self.top - Self.bottom
        let baselines = series.compactMap { s -> Double? in if case let .bars(b) = s.kind { return b } else { return nil } }
        let scale = LogScale(values: series.flatMap { $0.values.compactMap { $0 } }, include: baselines, top: Self.top, height: h)
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func x(_ i: Int) -> Double { Self.left + step * (Double(i) + 0.5) }
        let bottomY = Self.top + h

        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" "
        s += "role=\"img\" aria-labelledby=\"\(id)-title \(id)-desc\">\n"
        s += "<title id=\"\(id)-title\">\(HTMLText.escape(title))</title>\n<desc id=\"\(id)-desc\">\(HTMLText.escape(description))</desc>\n"
        // Decade grid and y labels.
        let ticks = Set(scale.ticks())
        for d in scale.lo...scale.hi {
            guard let y = scale.y(pow(10, Double(d))) else { continue }
            s += "<line class=\"grid\" x1=\"\(f(Self.left))\" y1=\"\(f(y))\" x2=\"\(f(Self.left + plotW))\" y2=\"\(f(y))\"/>\n"
            if ticks.contains(d) {
                s += "<text x=\"\(f(Self.left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(LogScale.label(d))</text>\n"
            }
        }
        // Bars.
        var legend: [(String, String, Bool)] = []  // (class, name, isLine)
        for (si, ser) in series.enumerated() {
            guard case let .bars(baseline) = ser.kind else { continue }
            legend.append((ser.cssClass, ser.name, false))
            let base = baseline.flatMap(scale.y) ?? bottomY
            if baseline != nil {
                s += "<line class=\"one\" x1=\"\(f(Self.left))\" y1=\"\(f(base))\" x2=\"\(f(Self.left + plotW))\" y2=\"\(f(base))\"/>\n"
            }
            s += "<g data-series=\"\(si)\">\n"
            let barW = max(2, step * 0.7)
            for (i, v) in ser.values.enumerated() where i < n {
                guard let v, let y = scale.y(v) else { continue }
                let classes = ser.cssClass + (highlighted.contains(i) ? " driver" : "") + (v.isInfinite ? " unbounded" : "")
                let (y0, y1) = (min(y, base), max(y, base))
                s += "<rect class=\"\(classes)\" x=\"\(f(x(i) - barW / 2))\" y=\"\(f(y0))\" width=\"\(f(barW))\" height=\"\(f(max(y1 - y0, 1)))\">"
                s += "<title>\(HTMLText.escape(tooltip(i, ser.name, v)))</title></rect>\n"
                if v.isInfinite { s += "<text x=\"\(f(x(i)))\" y=\"\(f(Self.top - 4))\" text-anchor=\"middle\" class=\"driver\">∞</text>\n" }
            }
            s += "</g>\n"
        }
        // Lines.
        for (si, ser) in series.enumerated() where ser.kind == .line {
            legend.append((ser.cssClass, ser.name, true))
            var runs: [[(Double, Double, Int, Double)]] = [[]]
            for (i, v) in ser.values.enumerated() where i < n {
                if let v, v.isFinite, let y = scale.y(v) { runs[runs.count - 1].append((x(i), y, i, v)) } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
            }
            s += "<g data-series=\"\(si)\">\n"
            for run in runs where run.count > 1 {
                s += "<polyline class=\"\(ser.cssClass)\" points=\"\(run.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " "))\"/>\n"
            }
            let dot = ser.cssClass == "gain" ? "dot" : "dot2"
            for p in runs.joined() {
                s += "<circle class=\"\(dot)\" cx=\"\(f(p.0))\" cy=\"\(f(p.1))\" r=\"3\"><title>\(HTMLText.escape(tooltip(p.2, ser.name, p.3)))</title></circle>\n"
            }
            s += "</g>\n"
        }
        // Axes and x labels.
        s += "<line class=\"axis\" x1=\"\(f(Self.left))\" y1=\"\(f(Self.top))\" x2=\"\(f(Self.left))\" y2=\"\(f(bottomY))\"/>\n"
        s += "<line class=\"axis\" x1=\"\(f(Self.left))\" y1=\"\(f(bottomY))\" x2=\"\(f(Self.left + plotW))\" y2=\"\(f(bottomY))\"/>\n"
        let every = max(1, Int((24 / step).rounded(.up)))
        for i in 0..<n where i % every == 0 || highlighted.contains(i) {
            let cls = highlighted.contains(i) ? " class=\"driver\"" : ""
            s += "<text x=\"\(f(x(i)))\" y=\"\(f(bottomY + 16))\" text-anchor=\"middle\"\(cls)>\(HTMLText.escape(labels[i]))</text>\n"
        }
        s += "<text x=\"\(f(Self.left + plotW / 2))\" y=\"\(f(bottomY + 36))\" text-anchor=\"middle\">layer (table row #)</text>\n"
        s += "<text transform=\"translate(14 \(f(Self.top + h / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTMLText.escape(yLabel))</text>\n"
        // Legend, top left above the plot.
        var lx = Self.left
        let ly = 18.0
        for (cls, name, isLine) in legend {
            if isLine {
                s += "<line class=\"\(cls)\" x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 22))\" y2=\"\(f(ly))\"/>"
            } else {
                s += "<rect class=\"\(cls)\" x=\"\(f(lx))\" y=\"\(f(ly - 6))\" width=\"12\" height=\"12\"/>"
            }
            let tx = lx + (isLine ? 28 : 18)
            s += "<text x=\"\(f(tx))\" y=\"\(f(ly + 4))\">\(HTMLText.escape(name))</text>\n"
            lx = tx + Double(name.count) * 7 + 18
        }
        if !highlighted.isEmpty, legend.contains(where: { !$0.2 }) {
            s += "<rect class=\"bar driver\" x=\"\(f(lx))\" y=\"\(f(ly - 6))\" width=\"12\" height=\"12\"/>"
            s += "<text x=\"\(f(lx + 18))\" y=\"\(f(ly + 4))\">\(HTMLText.escape(highlightLegend))</text>\n"
        }
        s += "</svg>"
        return s
    }

    func tooltip(_ i: Int, _ series: String, _ v: Double) -> String {
        let label = i < tooltips.count ? tooltips[i] : labels[i]
        return "\(label): \(series) \(NumberText.value(v))"
    }
}
