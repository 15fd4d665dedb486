import Foundation

/// Per-input κ as an SVG chart in the manner of the paper's Fig. 3: input index on x,
/// κ on a log-scale y axis, DeepFool (κ max per input) as blue circles and the random
/// perturbation of equal norm as orange squares, decade grid lines. Hand-written SVG 1.1.
public enum ValidationPlot {
    /// A standalone SVG file (with its XML declaration).
    public static func svg(_ r: ValidationReport, width: Int = 720, height: Int = 420) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + inline(r, width: width, height: height)
    }

    /// The same `<svg>` element without the XML declaration, to embed in an HTML page. It
    /// paints its own white background and colours, so it reads the same in a dark page.
    public static func inline(_ r: ValidationReport, width: Int = 720, height: Int = 420) -> String {
        let left = 70.0, right = 20.0, top = 40.0, bottom = 50.0
        let w = Double(width) - left - right, h = Double(height) - top - bottom
        let df = r.inputs.compactMap { row in row.kappaMax.value.map { (row.index, $0) } }.filter { $0.1 > 0 }
        let rnd = r.inputs.compactMap { row in row.kappaRandom.value.map { (row.index, $0) } }.filter { $0.1 > 0 }
        let all = (df + rnd).map(\.1)
        var lo = floor(log10(all.min() ?? 1)), hi = ceil(log10(all.max() ?? 10))
        if hi <= lo { hi = lo + 1 }
        if hi - lo > 12 { lo = hi - 12 }
        let maxIndex = max(1, (r.inputs.map(\.index).max() ?? 0))
        let minIndex = r.inputs.map(\.index).min() ?? 0
        let span = Double(max(1, maxIndex - minIndex))
        func px(_ i: Int) -> Double { left + (r.inputs.count == 1 ? w / 2 : Double(i - minIndex) / span * w) }
        func py(_ k: Double) -> Double { top + h - (min(max(log10(k), lo), hi) - lo) / (hi - lo) * h }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func esc(_ s: String) -> String { HTMLText.escape(s) }

        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(left))" y="22" font-size="14">κ per input — \(esc((r.model.path as NSString).lastPathComponent)) (\(esc(r.settings.output)))</text>

        """
        for d in Int(lo)...Int(hi) {
            let y = py(pow(10, Double(d)))
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + w))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\">1e\(d)</text>\n"
        }
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + h))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top + h))\" x2=\"\(f(left + w))\" y2=\"\(f(top + h))\" stroke=\"black\"/>\n"
        let ticks = Set([minIndex, maxIndex, minIndex + (maxIndex - minIndex) / 2])
        for t in ticks.sorted() { s += "<text x=\"\(f(px(t)))\" y=\"\(f(top + h + 18))\" text-anchor=\"middle\">\(t)</text>\n" }
        s += "<text x=\"\(f(left + w / 2))\" y=\"\(f(top + h + 38))\" text-anchor=\"middle\">input</text>\n"
        s += "<text transform=\"translate(16 \(f(top + h / 2))) rotate(-90)\" text-anchor=\"middle\">κ (log scale)</text>\n"
        s += "<g fill=\"#1f77b4\">\n"
        for (i, k) in df { s += "<circle cx=\"\(f(px(i)))\" cy=\"\(f(py(k)))\" r=\"3.5\"><title>#\(i) DeepFool κ \(NumberText.value(k))</title></circle>\n" }
        s += "</g>\n<g fill=\"#ff7f0e\">\n"
        for (i, k) in rnd { s += "<rect x=\"\(f(px(i) - 3))\" y=\"\(f(py(k) - 3))\" width=\"6\" height=\"6\"><title>#\(i) random κ \(NumberText.value(k))</title></rect>\n" }
        s += "</g>\n"
        let lx = left + w - 150
        s += "<circle cx=\"\(f(lx))\" cy=\"\(f(top + 8))\" r=\"3.5\" fill=\"#1f77b4\"/><text x=\"\(f(lx + 10))\" y=\"\(f(top + 12))\">DeepFool</text>\n"
        s += "<rect x=\"\(f(lx - 3))\" y=\"\(f(top + 22))\" width=\"6\" height=\"6\" fill=\"#ff7f0e\"/><text x=\"\(f(lx + 10))\" y=\"\(f(top + 29))\">random</text>\n"
        s += "</svg>\n"
        return s
    }
}
