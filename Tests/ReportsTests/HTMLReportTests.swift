import Foundation
import KappaTestSupport
import ONNX
import Reference
import Reports
import Sensitivity
import Testing

/// External tools the HTML tests drive: `xmllint` (Debian libxml2-utils) and headless
/// Chromium (Debian chromium). `.ci/run` installs both; without them the tests that need
/// them are skipped (Swift Testing prints the condition's comment).
enum HTMLTools {
    static func which(_ names: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for n in names {
            for dir in path.split(separator: ":") {
                let p = "\(dir)/\(n)"
                if FileManager.default.isExecutableFile(atPath: p) { return p }
            }
        }
        return nil
    }
    static let xmllint = which(["xmllint"])
    static let chromium = which(["chromium", "chromium-browser", "google-chrome"])

    /// Runs a tool; returns exit status, stdout and stderr. A run that has not ended after
    /// `limit` seconds is terminated (a hang guard, not a timed assertion).
    static func run(_ tool: String, _ args: [String], limit: Double = 180) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("kappa-html-out-\(UUID().uuidString)")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("kappa-html-err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let deadline = Date().addingTimeInterval(limit)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "", (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}

/// A node name that would break markup if it were not escaped.
let hostileName = "<b>\"big\" & 'x'</b>"

/// x[1,4] → Gemm(1000·I) → Relu → Gemm(1.2·I) → Relu → Gemm(0.5·I): L per layer 1000, 1.2,
/// 0.5 (σ of a scaled identity), Eq. 7 bound 1000·1.2·0.5 = 600. Shares of its bits:
/// log 1000 / log 600 = 1.08 (over half alone), log 1.2 / log 600 = 0.028, and 0.5 < 1 does
/// not amplify, so exactly the first layer drives the bound. Its node is named ``hostileName``.
func drivenModel() -> ModelSpec {
    var b = NetworkBuilder(seed: 1)
    var t = b.input("x", shape: [1, 4])
    for (i, s) in [Float(1000), 1.2, 0.5].enumerated() {
        var eye = [Float](repeating: 0, count: 16)
        for k in 0..<4 { eye[k * 4 + k] = s }
        let w = b.constant("W\(i)", dims: [4, 4], values: eye)
        let bias = b.constant("B\(i)", dims: [4], values: [0, 0, 0, 0])
        t = b.node("Gemm", [t, w, bias], shape: [1, 4], attributes: [("transB", .int(1))])
        if i < 2 { t = b.relu(t) }
    }
    b.output(t)
    var spec = b.model()
    spec.graph?.nodes[0].name = hostileName
    return spec
}

func analyzeHTML() throws -> (AnalyzeReport, String) {
    let report = try analyzeReport(drivenModel(), "driven.onnx", norm: .operator)
    return (report, try report.render(.html))
}

func validateHTML() throws -> (ValidationReport, String) {
    let g = try graph(SmallModels.tinyCNN(), "tiny.onnx")
    let inputs = InputSet.synthetic(count: 4, range: 0...1, seed: 4, shape: try Validation.inputShape(of: g))
    let result = try Validation.run(graph: g, inputs: inputs, options: ValidationOptions(bound: 12.5), progress: nil)
    let report = ValidationReport(result: result, model: g.model)
    return (report, try report.render(.html))
}

func checkAndInspectHTML() throws -> [String] {
    let g = try graph(drivenModel(), "driven.onnx")
    let r = try SensitivityAnalysis.run(g, options: .init(norm: .operator, threads: 1))
    let entry = CheckReport.Entry(graph: g, result: r, bound: .eq7, norm: .operator, maxBits: 4)
    let check = CheckReport(entries: [entry], failures: [.init(path: "a<b>.onnx", error: "cannot read & <parse>")], bound: .eq7, norm: .operator, maxBits: 4)
    return [try check.render(.html), try InspectReport(g).render(.html)]
}

/// The quant page (static bound on a domain, measured errors, a plan) and the diff page of two
/// MLPs, the second over its --max-divergence budget.
func quantAndDiffHTML() throws -> (QuantReport, String, DiffReport, String) {
    let g = try graph(SmallModels.tinyCNN(), "tiny.onnx")
    let domain = try InputDomain.declared([try DomainSpec.parse("x=0,1").get()], graph: g).get()
    let r = try QuantRun.analyse(g, settings: QuantSettings(weights: .int(bits: 8, granularity: .channel), activations: .int(signed: false)),
                                 domain: domain, threads: 1)
    let feeds = try QuantRun.syntheticFeeds(g, count: 3, seed: 1, domain: domain)
    let m = try QuantMeasurement.measure(g, targets: r.targets, output: r.output, feeds: feeds)
    let plan = try QuantRun.plan(g, analysis: r, measured: m, feeds: feeds, maxError: 1e-9, domain: domain)
    let quant = QuantReport(graph: g, result: r, domain: domain, measured: m, plan: plan,
                            gate: QuantGate.evaluate(bound: r.bound, measured: nil, maxError: 1e-9, scheme: "int8-channel/uint8"))
    let a = try graph(SmallModels.mlp(seed: 3), "a.onnx"), b = try graph(SmallModels.mlp(seed: 4), "b.onnx")
    let d = try DiffDivergence.run(float: a, export: b, feeds: try QuantRun.syntheticFeeds(a, count: 2, seed: 1, domain: nil))
    let diff = DiffReport(float: a, export: b, result: try ModelDiff.run(float: a, export: b, threads: 1), maxDivergence: 0.1, divergence: d)
    return (quant, try quant.render(.html), diff, try diff.render(.html))
}

func writeTemp(_ html: String, _ name: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kappa-html-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try Data(html.utf8).write(to: url)
    return url
}

struct HTMLReportTests {
    @Test func escapeCoversMarkupQuotesAndForbiddenCharacters() {
        #expect(HTMLText.escape(hostileName) == "&lt;b&gt;&quot;big&quot; &amp; &#39;x&#39;&lt;/b&gt;")
        // NUL, ESC, DEL, a C1 control and a noncharacter become U+FFFD; tab, LF, CR and
        // ordinary non-ASCII text stay.
        #expect(HTMLText.escape("a\u{0}b\u{1B}c\u{7F}d\u{85}e\u{FFFE}f") == "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e\u{FFFD}f")
        #expect(HTMLText.escape("σ\tκ\n≤\r") == "σ\tκ\n≤\r")
    }

    @Test func logScaleMapsDecadesLinearly() {
        let s = LogScale(values: [3, 250], include: [1], top: 10, height: 300)
        #expect(s.lo == 0 && s.hi == 3)
        #expect(s.y(1) == 310)
        #expect(s.y(1000) == 10)
        #expect(abs(s.y(10)! - 210) < 1e-9)
        #expect(abs(s.y(250)! - (10 + 300 * (3 - log10(250)) / 3)) < 1e-9)
        #expect(s.y(.infinity) == 10)
        #expect(s.y(0) == nil && s.y(-1) == nil && s.y(.nan) == nil)
        #expect(s.y(1e-9) == 310)  // clamped to the bottom edge
        #expect(LogScale.label(0) == "1" && LogScale.label(3) == "1e3" && LogScale.label(-2) == "1e-2")
    }

    @Test func drivingLayersOfAConstructedNetwork() throws {
        let (report, html) = try analyzeHTML()
        try #require(report.layers.count == 3)
        #expect(report.layers[0].node == hostileName)
        let ls = report.layers.map { $0.lipschitz.operator.bound }
        #expect(abs(ls[0] - 1000) < 1e-3 && abs(ls[1] - 1.2) < 1e-6 && abs(ls[2] - 0.5) < 1e-6)
        #expect(abs(report.network.eq7.operator.bound - 600) < 1e-3)
        #expect(AnalyzeReport.drivingLayers(report.layers, bound: report.network.eq7.operator.bound) == [0])
        // A bound ≤ 1 has no driver; an unbounded layer always drives.
        #expect(AnalyzeReport.drivingLayers(report.layers, bound: 0.9) == [])
        // With a bound of 1.44 = 1.2² the second layer alone holds log 1.2 / log 1.44 = 1/2 of
        // the bits, the first more: the first is taken, then the target is reached.
        #expect(AnalyzeReport.drivingLayers(report.layers, bound: 1.44) == [0])
        // Asking for all the bits takes every amplifying layer, never the attenuating one.
        #expect(AnalyzeReport.drivingLayers(report.layers, bound: 600, fraction: 2) == [0, 1])
        #expect(AnalyzeReport.drivingLayers(report.layers, bound: 600, fraction: 2, limit: 1) == [0])
        // In the page: one highlighted bar and one highlighted table row, both the first layer.
        let bars = try Regex("<rect class=\"bar driver\"[^>]*><title>([^<]*)</title>")
        let highlighted = html.matches(of: bars).map { String(html[$0.range]) }
        #expect(highlighted.count == 1)
        #expect(highlighted.first?.contains(HTMLText.escape(hostileName)) == true)
        #expect(html.components(separatedBy: "<tr class=\"driver\">").count - 1 == 1)
        #expect(html.contains("<tr class=\"driver\"><th scope=\"row\" class=\"num\">1</th>"))
    }

    @Test func unboundedLayersDrive() throws {
        let report = try analyzeReport(SmallModels.withUnsupported(), "unsupported.onnx")
        let unbounded = report.layers.indices.filter { report.layers[$0].lipschitz.operator.value == nil }
        #expect(!unbounded.isEmpty)
        #expect(Set(AnalyzeReport.drivingLayers(report.layers, bound: report.network.eq7.operator.bound)).isSuperset(of: unbounded))
        let html = try report.render(.html)
        #expect(html.contains("class=\"bar driver unbounded\""))
    }

    /// Every model string is escaped; the page needs nothing from outside.
    @Test func pagesAreSelfContainedAndEscaped() throws {
        let pages = [try analyzeHTML().1, try validateHTML().1] + (try checkAndInspectHTML())
        for page in pages {
            #expect(page.hasPrefix("<!DOCTYPE html>"))
            #expect(!page.contains(hostileName))
            #expect(!page.contains("<b>"))
            for banned in ["<script", "<link", "<img", "<iframe", "src=", "url(", "@import", "javascript:"] {
                #expect(!page.lowercased().contains(banned), "\(banned)")
            }
            // The only URL is the SVG namespace name, which is not fetched.
            let urls = page.components(separatedBy: "http").dropFirst().map { "http" + $0.prefix(23) }
            #expect(urls.allSatisfy { $0 == "http://www.w3.org/2000/svg\"" }, "\(urls)")
        }
        #expect(pages[0].contains(HTMLText.escape(hostileName)))
        #expect(pages[2].contains("a&lt;b&gt;.onnx") && pages[2].contains("cannot read &amp; &lt;parse&gt;"))
    }

    /// quant and diff pages: self-contained, with the per-layer error chart (one bar per
    /// layer, plus the legend's swatches), every layer named in the table, the plan's nodes_to_exclude and the gate.
    @Test func quantAndDiffPagesHaveTheErrorChart() throws {
        let (quant, qpage, diff, dpage) = try quantAndDiffHTML()
        for page in [qpage, dpage] {
            #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("<svg"))
            for banned in ["<script", "<link", "<img", "<iframe", "src=", "url(", "@import", "javascript:"] {
                #expect(!page.lowercased().contains(banned), "\(banned)")
            }
            let urls = page.components(separatedBy: "http").dropFirst().map { "http" + $0.prefix(23) }
            #expect(urls.allSatisfy { $0 == "http://www.w3.org/2000/svg\"" }, "\(urls)")
        }
        #expect(qpage.components(separatedBy: "<rect class=\"bar").count - 1 >= quant.layers.filter { ($0.predicted.value ?? 0) > 0 }.count)
        for l in quant.layers { #expect(qpage.contains(HTMLText.escape(l.node))) }
        #expect(qpage.contains("nodes_to_exclude") && qpage.contains("FAIL"))
        let diffBars = dpage.components(separatedBy: "<rect class=\"bar").count - 1  // one per layer, plus at most 2 legend swatches
        #expect(diffBars >= diff.layers.count && diffBars <= diff.layers.count + 2)
        for l in diff.layers { #expect(dpage.contains(HTMLText.escape(l.floatNode))) }
        #expect(dpage.contains("FAIL"))
        let acts = try #require(diff.divergence?.activations)
        #expect(!acts.isEmpty && dpage.contains("diff-activations"))
        for a in acts { #expect(dpage.contains(HTMLText.escape(a.tensor))) }
    }

    @Test func validatePageHasThePlotAndTableI() throws {
        let (report, html) = try validateHTML()
        #expect(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!html.contains("<?xml"))
        // One DeepFool circle and one random square per input with a finite κ.
        #expect(html.components(separatedBy: "DeepFool κ ").count - 1 == report.inputs.filter { ($0.kappaMax.value ?? 0) > 0 }.count)
        #expect(html.components(separatedBy: "random κ ").count - 1 == report.inputs.filter { ($0.kappaRandom.value ?? 0) > 0 }.count)
        #expect(html.contains("Table I"))
        if let m = report.summary.deepfool.max { #expect(html.contains(NumberText.value(m.kappa))) }
        #expect(ValidationPlot.svg(report).hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg"))
    }

    /// libxml2 parses every page as HTML and as XML (the markup is polyglot) without an
    /// error. Debian 12's libxml2 2.9 HTML parser knows HTML 4 only and reports each HTML5
    /// sectioning element and inline SVG element as "Tag … invalid"; exactly those messages
    /// are allowed, any other fails the test.
    @Test(.enabled(if: HTMLTools.xmllint != nil, "xmllint not found (Debian package libxml2-utils): HTML parse check skipped"))
    func xmllintFindsNoErrors() throws {
        let tool = try #require(HTMLTools.xmllint)
        let html5 = Set(["header", "nav", "main", "section", "figure", "figcaption", "footer",
                         "svg", "desc", "g", "line", "polyline", "rect", "circle", "text"])
        let pages = [("analyze.html", try analyzeHTML().1), ("validate.html", try validateHTML().1)]
            + zip(["check.html", "inspect.html"], try checkAndInspectHTML()).map { ($0, $1) }
        let q = try quantAndDiffHTML()
        for (name, page) in pages + [("quant.html", q.1), ("diff.html", q.3)] {
            let url = try writeTemp(page, name)
            let (code, _, err) = try HTMLTools.run(tool, ["--html", "--noout", url.path])
            #expect(code == 0, "\(name): \(err)")
            let lines = err.split(separator: "\n").map(String.init).filter { $0.contains("error") }
            let other = lines.filter { line in
                guard let r = line.range(of: "HTML parser error : Tag "), line.hasSuffix(" invalid") else { return true }
                return !html5.contains(String(line[r.upperBound...].dropLast(" invalid".count)))
            }
            #expect(other.isEmpty, "\(name): \(other)")
            let (xcode, _, xerr) = try HTMLTools.run(tool, ["--noout", url.path])
            #expect(xcode == 0 && xerr.isEmpty, "\(name) as XML: \(xerr)")
        }
    }

    /// A real browser renders the analyze and validate pages: headless Chromium writes a
    /// PNG of the window size, and the DOM it built holds the model name, the bound and the
    /// layer names as text (the hostile node name as text, not as a <b> element).
    @Test(.enabled(if: HTMLTools.chromium != nil, "chromium not found (Debian package chromium): browser rendering check skipped"))
    func chromiumRendersThePage() throws {
        let tool = try #require(HTMLTools.chromium)
        let (report, analyze) = try analyzeHTML()
        let (vreport, validate) = try validateHTML()
        for (name, page) in [("analyze.html", analyze), ("validate.html", validate)] {
            let url = try writeTemp(page, name)
            let dir = url.deletingLastPathComponent()
            let png = dir.appendingPathComponent("out.png")
            let common = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(dir.appendingPathComponent("profile").path)"]
            let (code, _, err) = try HTMLTools.run(tool, common + ["--screenshot=\(png.path)", "--window-size=1200,2000", url.absoluteString])
            #expect(code == 0, "\(err)")
            let data = try Data(contentsOf: png)
            #expect(data.count > 1000)
            let bytes = [UInt8](data.prefix(24))
            #expect(bytes.count == 24 && bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            #expect(String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR")
            func be32(_ o: Int) -> Int { bytes[o..<o + 4].reduce(0) { $0 << 8 | Int($1) } }
            #expect(be32(16) == 1200 && be32(20) == 2000, "PNG \(be32(16))×\(be32(20))")

            let (dcode, dom, derr) = try HTMLTools.run(tool, common + ["--dump-dom", url.absoluteString])
            #expect(dcode == 0, "\(derr)")
            let text = Self.textContent(dom)
            if name == "analyze.html" {
                #expect(text.contains("Kappa analyze: driven.onnx"))
                #expect(text.contains(NumberText.value(report.network.eq7.operator.bound)))  // "600"
                for l in report.layers { #expect(text.contains(l.node), "\(l.node)") }
                #expect(text.contains(hostileName))
                #expect(!dom.contains("<b>\"big\""))
                #expect(dom.contains("class=\"bar driver\""))
            } else {
                #expect(text.contains("Kappa validate: tiny.onnx"))
                #expect(text.contains("Table I"))
                if let m = vreport.summary.deepfool.max { #expect(text.contains(NumberText.value(m.kappa))) }
                #expect(dom.contains("<svg"))
            }
        }
    }

    /// The text of a serialized DOM: style blocks and tags dropped, the five entities decoded.
    static func textContent(_ dom: String) -> String {
        var s = dom.replacingOccurrences(of: "<style>[\\s\\S]*?</style>", with: "", options: .regularExpression)
        s = s.replacingOccurrences(of: "<[^>]*>", with: " ", options: .regularExpression)
        for (e, c) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&nbsp;", " "), ("&amp;", "&")] {
            s = s.replacingOccurrences(of: e, with: c)
        }
        return s
    }
}
