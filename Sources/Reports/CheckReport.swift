import Foundation
import ONNX
import Sensitivity

/// `kappa check --bound`: the gate policy's bound, from Sensitivity.
public typealias CheckBound = GateBound

/// `kappa check`: one entry per model with the gated κ, its bits and the verdict.
/// A model passes when its bits are known and ≤ `max_bits`; an unbounded κ (unsupported or
/// unbounded node, NaN weights) fails the gate because nothing can be certified.
public struct CheckReport: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var model: ModelInfo
        public var output: String
        public var precision: Precision
        public var passed: Bool
        public var findings: [Finding]

        /// `tightest`: gate Eq. 7 on the smallest of the plain, folded and rescaled bounds
        /// (`result.tightening`, all sound for the same function; `check --rescale`).
        public init(graph: ModelGraph, result: AnalysisResult, bound: CheckBound, norm: NormMode, maxBits: Int, end: GateEnd = .upper,
                    tightest: Bool = false) {
            model = ModelInfo(graph.model)
            output = result.network.output.tensor
            let gate = end == .lower ? Gate.evaluateLower(result.bracket, maxBits: maxBits)
                                     : Gate.evaluate(result.network, bound: bound, column: norm, maxBits: maxBits,
                                                     tightening: tightest ? result.network.tightening : nil)
            precision = gate.precision
            passed = gate.passed
            findings = (result.findings + [gate.finding].compactMap { $0 }).map { $0.with(file: graph.path) }
        }

        /// Gate on the measured κ (`kappa check --inputs/--synthetic`): the paper's Table I
        /// maximum, whose bits decide e.g. "11 bits, so INT8 inputs are risky".
        public init(graph: ModelGraph, measured report: ValidationReport, maxBits: Int) {
            model = ModelInfo(graph.model)
            output = report.settings.output
            let gate = Gate.evaluate(report.measurementSummary, output: report.settings.output, maxBits: maxBits)
            precision = gate.precision
            passed = gate.passed
            findings = (report.findings + [gate.finding].compactMap { $0 }).map { $0.with(file: graph.path) }
        }
    }

    /// Gate on a measurement: the bits of the largest κ that `validate` measured.

    public struct Failure: Codable, Sendable {
        public var path: String
        public var error: String
        public init(path: String, error: String) { self.path = path; self.error = error }
    }

    public var schemaVersion = reportSchemaVersion
    public var tool = ToolInfo()
    /// The first model checked (`models` lists all of them).
    public var model: ModelInfo?
    public var bound: CheckBound
    public var norm: String
    /// Eq. 7 gated on its tightest sound form (plain, folded or rescaled; `check --rescale`).
    public var rescaled: Bool
    public var maxBits: Int
    public var passed: Bool
    public var models: [Entry]
    public var errors: [Failure]
    public var findings: [Finding]

    enum CodingKeys: String, CodingKey {
        case tool, model, bound, norm, rescaled, passed, models, errors, findings
        case schemaVersion = "schema_version"
        case maxBits = "max_bits"
    }

    public init(entries: [Entry], failures: [Failure], bound: CheckBound, norm: NormMode, maxBits: Int, rescaled: Bool = false) {
        model = entries.first?.model
        self.bound = bound
        self.rescaled = rescaled && bound == .eq7
        self.norm = bound == .measured ? "measured" : norm.rawValue
        self.maxBits = maxBits
        models = entries
        errors = failures
        passed = failures.isEmpty && entries.allSatisfy(\.passed)
        findings = entries.flatMap(\.findings)
    }

    /// "eq7, operator", "eq8, matrix" or "measured κ".
    var gateLabel: String { bound == .measured ? "measured κ" : "\(bound.rawValue)\(rescaled ? " rescaled" : ""), \(norm)" }

    public func render(_ format: OutputFormat, color: Bool = false) throws -> String {
        let first = models.first?.model.path ?? errors.first?.path ?? ""
        switch format {
        case .json: return try encodeJSON(self)
        case .html: return html()
        case .sarif, .github: return try FindingsRenderer.render(findings, format: format, modelPath: first)
        case .csv:
            var s = "model,output,kappa,digits,bits,max_bits,passed\n"
            for e in models {
                s += [e.model.path, e.output, NumberText.csv(e.precision.kappa), NumberText.csv(e.precision.digits),
                      e.precision.bits.map(String.init) ?? "", String(maxBits), String(e.passed)].map(FindingsRenderer.csvField).joined(separator: ",") + "\n"
            }
            for e in errors { s += [e.path, "", "", "", "", String(maxBits), "error"].map(FindingsRenderer.csvField).joined(separator: ",") + "\n" }
            return s
        case .markdown:
            var s = "### Kappa check: \(passed ? "passed" : "failed") (budget \(maxBits) bits, \(gateLabel))\n\n"
            s += "| model | κ | digits | bits | result |\n|---|---:|---:|---:|---|\n"
            for e in models {
                s += "| `\(e.model.path)` | \(NumberText.value(e.precision.kappa)) | \(NumberText.digits(e.precision.digits)) | \(NumberText.bitCount(e.precision.bits)) | \(e.passed ? "pass" : "**fail**") |\n"
            }
            for e in errors { s += "| `\(e.path)` | | | | **error**: \(e.error.replacingOccurrences(of: "|", with: "\\|")) |\n" }
            if !findings.isEmpty {
                s += "\n"
                for f in findings { s += "- \(f.severity.rawValue) `\(f.rule.id)` \(f.file.map { "`\($0)`: " } ?? "")\(f.message.replacingOccurrences(of: "|", with: "\\|"))\n" }
            }
            return s
        case .text:
            func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
            var s = ""
            for e in models {
                let verdict = e.passed ? paint("PASS", "32") : paint("FAIL", "31")
                s += "\(verdict)  \(e.model.path): κ = \(NumberText.value(e.precision.kappa)), \(NumberText.digits(e.precision.digits)) digits, "
                    + "\(NumberText.bits(e.precision.bits)) (budget \(maxBits))\n"
            }
            for e in errors { s += "\(paint("ERROR", "31")) \(e.error)\n" }
            for f in findings { s += "\(f.severity.rawValue): [\(f.rule.id)] \(f.file.map { "\($0): " } ?? "")\(f.message)\n" }
            s += "\(passed ? "passed" : "failed"): \(models.filter(\.passed).count) of \(models.count + errors.count) model(s) within \(maxBits) bits (\(gateLabel))\n"
            return s
        }
    }
}
