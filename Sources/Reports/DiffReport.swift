import Foundation
import ONNX
import Reference
import Sensitivity

/// `kappa diff FLOAT.onnx EXPORT.onnx`: matched weight layers with ΔW norms and SQNR, the
/// unmatched layers of each side, and the `--max-divergence` gate (KAPPA008).
public struct DiffReport: Codable, Sendable {
    public struct Layer: Codable, Sendable, Equatable {
        public var floatNode: String
        public var exportNode: String
        public var floatOp: String
        public var exportOp: String
        public var weightShape: [Int]
        public var matchedBy: String
        public var frobenius: JSONNumber
        public var deltaFrobenius: JSONNumber
        public var deltaSigma: JSONNumber
        public var maxAbsError: JSONNumber
        public var relative: JSONNumber
        public var sqnrDb: JSONNumber
        enum CodingKeys: String, CodingKey {
            case frobenius, relative
            case floatNode = "float_node", exportNode = "export_node", floatOp = "float_op", exportOp = "export_op"
            case weightShape = "weight_shape", matchedBy = "matched_by", deltaFrobenius = "delta_frobenius", deltaSigma = "delta_sigma"
            case maxAbsError = "max_abs_error", sqnrDb = "sqnr_db"
        }
    }

    public struct Side: Codable, Sendable, Equatable {
        public var node: String
        public var op: String
        public var weightShape: [Int]
        enum CodingKeys: String, CodingKey { case node, op; case weightShape = "weight_shape" }
    }

    /// With inputs: ``DiffDivergence`` — the output divergence and, per matched activation,
    /// the local and cumulative relative divergence (max and mean over the inputs).
    public struct Divergence: Codable, Sendable, Equatable {
        public struct Activation: Codable, Sendable, Equatable {
            public var tensor: String
            public var from: String?
            public var localMax: JSONNumber
            public var localMean: JSONNumber
            public var cumulativeMax: JSONNumber
            public var cumulativeMean: JSONNumber
            enum CodingKeys: String, CodingKey {
                case tensor, from
                case localMax = "local_max", localMean = "local_mean", cumulativeMax = "cumulative_max", cumulativeMean = "cumulative_mean"
            }
        }
        public var output: String
        public var measured: QuantReport.Measured
        public var activations: [Activation]
        public var forwardPasses: Int
        enum CodingKeys: String, CodingKey {
            case output, measured, activations
            case forwardPasses = "forward_passes"
        }
        init(_ d: DiffDivergence.Result) {
            output = d.output
            measured = QuantReport.Measured(d.stats)
            activations = d.activations.map {
                Activation(tensor: $0.tensor, from: $0.from, localMax: JSONNumber($0.localMax), localMean: JSONNumber($0.localMean),
                           cumulativeMax: JSONNumber($0.cumulativeMax), cumulativeMean: JSONNumber($0.cumulativeMean))
            }
            forwardPasses = d.forwardPasses
        }
    }

    public var schemaVersion = reportSchemaVersion
    public var tool = ToolInfo()
    public var model: ModelInfo
    public var export: ModelInfo
    public var command = "diff"
    public var layers: [Layer]
    public var unmatchedFloat: [Side]
    public var unmatchedExport: [Side]
    public var maxRelative: Double
    public var maxDivergence: Double?
    public var passed: Bool
    public var divergence: Divergence?
    public var findings: [Finding]

    enum CodingKeys: String, CodingKey {
        case tool, model, export, command, layers, passed, findings, divergence
        case schemaVersion = "schema_version", unmatchedFloat = "unmatched_float", unmatchedExport = "unmatched_export"
        case maxRelative = "max_relative", maxDivergence = "max_divergence"
    }

    public init(float: ModelGraph, export: ModelGraph, result r: ModelDiff.Result, maxDivergence: Double?,
                divergence d: DiffDivergence.Result? = nil) {
        model = ModelInfo(float.model)
        divergence = d.map(Divergence.init)
        self.export = ModelInfo(export.model)
        layers = r.pairs.map { p in
            Layer(floatNode: p.floatNode, exportNode: p.exportNode, floatOp: p.floatOp, exportOp: p.exportOp, weightShape: p.shape, matchedBy: p.matchedBy,
                  frobenius: JSONNumber(p.frobenius), deltaFrobenius: JSONNumber(p.deltaFrobenius), deltaSigma: JSONNumber(p.deltaSigma),
                  maxAbsError: JSONNumber(p.maxAbs), relative: JSONNumber(p.relative), sqnrDb: JSONNumber(p.sqnr))
        }
        unmatchedFloat = r.unmatchedFloat.map { Side(node: $0.node, op: $0.op, weightShape: $0.shape) }
        unmatchedExport = r.unmatchedExport.map { Side(node: $0.node, op: $0.op, weightShape: $0.shape) }
        maxRelative = r.maxRelative
        self.maxDivergence = maxDivergence
        var f: [Finding] = []
        if let m = maxDivergence {
            for p in r.pairs where !(p.relative <= m) {
                f.append(Finding(.exportDivergence, "layer '\(p.floatNode)' → '\(p.exportNode)': ‖ΔW‖_F/‖W‖_F = \(NumberText.value(p.relative)) (SQNR \(String(format: "%.1f", p.sqnr)) dB) exceeds --max-divergence \(NumberText.value(m))", node: p.floatNode))
            }
        }
        for u in r.unmatchedFloat { f.append(Finding(.note, "float layer '\(u.node)' (\(u.op), weight \(u.shape)) has no match in the export", node: u.node)) }
        for u in r.unmatchedExport { f.append(Finding(.note, "export layer '\(u.node)' (\(u.op), weight \(u.shape)) has no match in the float model", node: u.node)) }
        passed = !f.contains { $0.rule == .exportDivergence }
        findings = f.map { $0.with(file: export.path) }
    }

    public func render(_ format: OutputFormat, color: Bool = false) throws -> String {
        switch format {
        case .json: return try encodeJSON(self)
        case .sarif, .github: return try FindingsRenderer.render(findings, format: format, modelPath: export.path)
        case .csv:
            var s = "float_node,export_node,float_op,export_op,matched_by,delta_frobenius,delta_sigma,relative,sqnr_db\n"
            for l in layers {
                s += [l.floatNode, l.exportNode, l.floatOp, l.exportOp, l.matchedBy, NumberText.csv(l.deltaFrobenius.value), NumberText.csv(l.deltaSigma.value),
                      NumberText.csv(l.relative.value), NumberText.csv(l.sqnrDb.value)].map(FindingsRenderer.csvField).joined(separator: ",") + "\n"
            }
            return s
        case .html: return html()
        case .markdown, .text:
            var s = "Float    \(model.path)\nExport   \(export.path)\n\nMatched layers (\(layers.count))\n"
            s += TextFormat.table(["float", "export", "ops", "by", "‖ΔW‖₂", "‖ΔW‖_F", "relative", "SQNR dB"], layers.map { l in
                [l.floatNode, l.exportNode, "\(l.floatOp)→\(l.exportOp)", l.matchedBy, NumberText.value(l.deltaSigma.value), NumberText.value(l.deltaFrobenius.value),
                 NumberText.value(l.relative.value), l.sqnrDb.value.map { String(format: "%.1f", $0) } ?? "∞"]
            })
            for u in unmatchedFloat { s += "unmatched float layer: \(u.node) (\(u.op)) \(u.weightShape)\n" }
            for u in unmatchedExport { s += "unmatched export layer: \(u.node) (\(u.op)) \(u.weightShape)\n" }
            if let d = divergence {
                let m = d.measured
                s += "\nOutput '\(d.output)' on \(m.inputs) inputs: max ‖Δy‖₂ \(NumberText.value(m.maxError.value)), relative max / mean "
                    + "\(NumberText.value(m.maxRelativeError.value)) / \(NumberText.value(m.meanRelativeError.value))"
                    + (m.sqnrDb.value.map { String(format: ", SQNR %.1f dB", $0) } ?? "")
                    + (m.top1Agreement.value.map { String(format: ", top-1 agreement %.1f%%", 100 * $0) } ?? "") + "\n"
                s += "Matched activations (\(d.activations.count)): relative divergence, max over the inputs\n"
                s += TextFormat.table(["tensor", "local from", "local", "cumulative"], d.activations.map { a in
                    [a.tensor, a.from ?? "(inputs)", NumberText.value(a.localMax.value), NumberText.value(a.cumulativeMax.value)]
                })
                s += "\n"
            }
            s += "max relative divergence \(NumberText.value(maxRelative))" + (maxDivergence.map { " (budget \(NumberText.value($0)): \(passed ? "PASS" : "FAIL"))" } ?? "") + "\n"
            for f in findings where f.rule != .note { s += "\(f.severity.rawValue): [\(f.rule.id)] \(f.message)\n" }
            return s
        }
    }
}
