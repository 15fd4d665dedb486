import Foundation
import ONNX
import Reference
import Sensitivity

/// The report of `kappa run`: per input set, each graph output's shape and, where the set holds
/// an expected `output_k.pb`, the comparison (max absolute / relative error, elements outside
/// the tolerance).
public struct RunReport: Codable, Sendable {
    public struct Output: Codable, Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var dtype: String
        /// Where the value was written (`--save DIR`), if it was.
        public var file: String?
        public var expected: Bool
        public var maxAbsError: JSONNumber?
        public var maxRelError: JSONNumber?
        public var mismatches: Int?
        public var passed: Bool?
        public var reason: String?

        enum CodingKeys: String, CodingKey {
            case name, shape, dtype, file, expected, mismatches, passed, reason
            case maxAbsError = "max_abs_error"
            case maxRelError = "max_rel_error"
        }
    }

    public struct Case: Codable, Sendable, Equatable {
        public var source: String
        public var seconds: Double
        public var outputs: [Output]
    }

    public var schemaVersion = reportSchemaVersion
    public var tool = ToolInfo()
    public var model: ModelInfo
    public var rtol: Double
    public var atol: Double
    public var cases: [Case]
    public var compared: Int
    public var failed: Int

    enum CodingKeys: String, CodingKey {
        case tool, model, rtol, atol, cases, compared, failed
        case schemaVersion = "schema_version"
    }

    public init(model m: Model, rtol: Double, atol: Double, results: [ModelRun.CaseResult], files: [String: String] = [:]) {
        model = ModelInfo(m)
        self.rtol = rtol
        self.atol = atol
        cases = results.map { r in
            Case(source: r.source, seconds: (r.seconds * 1e4).rounded() / 1e4, outputs: r.outputs.map { name, v in
                let c = r.comparisons.first { $0.output == name }
                return Output(name: name, shape: v.shape, dtype: "\(v.dtype)", file: files["\(r.source)/\(name)"], expected: c != nil,
                              maxAbsError: c.map { JSONNumber($0.maxAbsError) }, maxRelError: c.map { JSONNumber($0.maxRelError) },
                              mismatches: c?.mismatches, passed: c?.passed, reason: c?.reason)
            })
        }
        compared = results.reduce(0) { $0 + $1.comparisons.count }
        failed = results.reduce(0) { $0 + $1.comparisons.filter { !$0.passed }.count }
    }

    public func render(_ format: OutputFormat) throws -> String {
        switch format {
        case .json: return try encodeJSON(self)
        case .text: return text()
        case .markdown: return markdown()
        case .csv:
            return (Self.header + ["mismatches"]).joined(separator: ",") + "\n" + zip(rows, cases.flatMap(\.outputs)).map { r, o in
                (r + [o.mismatches.map(String.init) ?? ""]).map(FindingsRenderer.csvField).joined(separator: ",")
            }.joined(separator: "\n") + "\n"
        case .sarif, .github, .html: throw UnsupportedFormat(format: format)
        }
    }

    /// `kappa run` has no findings to put in SARIF or GitHub annotations.
    public struct UnsupportedFormat: Error, LocalizedError {
        public var format: OutputFormat
        public var errorDescription: String? { "run writes text, json, markdown or csv, not \(format.rawValue)" }
    }

    public static func supports(_ format: OutputFormat) -> Bool { ![.sarif, .github, .html].contains(format) }

    var rows: [[String]] {
        var out: [[String]] = []
        for c in cases {
            for o in c.outputs { out.append(Self.cells(c.source, o)) }
        }
        return out
    }

    static func cells(_ source: String, _ o: Output) -> [String] {
        let shape = o.shape.isEmpty ? "scalar" : o.shape.map(String.init).joined(separator: "×")
        let abs = o.maxAbsError.map { NumberText.value($0.value) } ?? "–"
        let rel = o.maxRelError.map { NumberText.value($0.value) } ?? "–"
        let result: String
        if let passed = o.passed {
            result = passed ? "ok" : "FAIL (" + (o.reason ?? "\(o.mismatches ?? 0) elements") + ")"
        } else {
            result = "not compared"
        }
        return [source, o.name, shape, o.dtype, abs, rel, result]
    }

    static let header = ["set", "output", "shape", "type", "max |err|", "max rel err", "result"]

    var verdict: String {
        compared == 0 ? "No expected outputs to compare (the sets hold no output_k.pb)."
            : failed == 0 ? "All \(compared) output(s) within rtol \(NumberText.value(rtol)), atol \(NumberText.value(atol))."
            : "\(failed) of \(compared) output(s) outside rtol \(NumberText.value(rtol)), atol \(NumberText.value(atol))."
    }

    func text() -> String {
        var s = "Model  \(model.path)\n\n"
        s += TextFormat.table(Self.header, rows)
        s += "\n" + verdict + "\n"
        return s
    }

    func markdown() -> String {
        var s = "### Kappa run: `\(model.path)`\n\n| " + Self.header.joined(separator: " | ") + " |\n|" + String(repeating: "---|", count: Self.header.count) + "\n"
        for r in rows { s += "| " + r.joined(separator: " | ") + " |\n" }
        return s + "\n" + verdict + "\n"
    }
}

