import Foundation
import ONNX
import Sensitivity

/// What is in a model file (`kappa inspect`): producer, IR/opsets, inputs/outputs,
/// op histogram, parameters, weight tensors and the ops the analysis does not support.
/// JSON keys as DESIGN.md §3.1.
public struct InspectReport: Codable, Sendable {
    public struct Value: Codable, Sendable, Equatable {
        public var name: String
        /// Numbers for fixed dimensions, strings for symbolic ones, null when unknown.
        public var shape: [ShapeDim]?
        public var dtype: String?
    }

    /// A dimension in JSON: an integer, a symbolic name, or null.
    public enum ShapeDim: Codable, Sendable, Equatable {
        case value(Int), param(String), unknown
        public init(_ d: Dim) {
            switch d {
            case let .value(v): self = .value(v)
            case let .param(p): self = .param(p)
            case .unknown: self = .unknown
            }
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .value(v): try c.encode(v)
            case let .param(p): try c.encode(p)
            case .unknown: try c.encodeNil()
            }
        }
        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .unknown } else if let v = try? c.decode(Int.self) { self = .value(v) } else { self = .param(try c.decode(String.self)) }
        }
        var text: String {
            switch self {
            case let .value(v): return String(v)
            case let .param(p): return p
            case .unknown: return "?"
            }
        }
    }

    public struct Weight: Codable, Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var dtype: String
        public var storage: String
        public var consumers: [String]
    }

    public struct Unsupported: Codable, Sendable, Equatable {
        public var node: String
        public var op: String
    }

    public var schemaVersion = reportSchemaVersion
    public var tool = ToolInfo()
    public var model: ModelInfo
    public var fileBytes: Int
    public var inputs: [Value]
    public var outputs: [Value]
    public var ops: [String: Int]
    public var nodes: Int
    public var parameters: Int
    public var parameterBytes: Int
    public var weights: [Weight]
    public var unsupported: [Unsupported]
    public var functions: [String]
    public var notes: [String]
    public var findings: [Finding]

    enum CodingKeys: String, CodingKey {
        case tool, model, inputs, outputs, ops, nodes, parameters, weights, unsupported, functions, notes, findings
        case schemaVersion = "schema_version"
        case fileBytes = "file_bytes"
        case parameterBytes = "parameter_bytes"
    }

    public init(_ g: ModelGraph) {
        model = ModelInfo(g.model)
        fileBytes = g.model.fileSize
        func value(_ v: ValueInfo, resolved: [Int]?) -> Value {
            let dims: [ShapeDim]? = resolved.map { $0.map { .value($0) } } ?? v.shape?.map(ShapeDim.init)
            return Value(name: v.name, shape: dims, dtype: (v.elementType ?? g.dtypes[v.name])?.description)
        }
        inputs = g.inputs.map { value($0, resolved: g.shapes[$0.name]) }
        outputs = g.graph.outputs.map { value($0, resolved: g.shapes[$0.name]) }
        var hist: [String: Int] = [:]
        for n in g.graph.nodes { hist[n.domain.isEmpty || n.domain == "ai.onnx" ? n.opType : "\(n.domain).\(n.opType)", default: 0] += 1 }
        ops = hist
        nodes = g.graph.nodes.count

        // Weights: floating-point constants read by nodes that depend on the input.
        var consumersOf: [String: [String]] = [:]
        for idx in g.order {
            let n = g.graph.nodes[idx]
            let live = n.outputs.contains { !$0.isEmpty && g.constants[$0] == nil }
            guard live else { continue }
            for i in n.inputs where !i.isEmpty {
                if let t = g.constants[i], t.dataType.isFloatingPoint, t.count > 1 {
                    if consumersOf[i]?.contains(n.name) != true { consumersOf[i, default: []].append(n.name) }
                }
            }
        }
        var ws: [Weight] = []
        var seen = Set<String>()
        var findings: [Finding] = []
        for idx in g.order {
            for i in g.graph.nodes[idx].inputs where consumersOf[i] != nil && !seen.contains(i) {
                seen.insert(i)
                guard let t = g.constants[i] else { continue }
                ws.append(Weight(name: i, shape: t.dims, dtype: t.dataType.description, storage: t.storage.rawValue,
                                 consumers: consumersOf[i] ?? []))
                let bad = t.nonFiniteCount()
                if bad > 0 {
                    findings.append(Finding(.nonFiniteWeight, "weight '\(i)' holds \(bad) NaN or infinite value\(bad == 1 ? "" : "s")",
                                            node: consumersOf[i]?.first))
                }
            }
        }
        weights = ws
        parameters = ws.reduce(0) { $0 + $1.shape.reduce(1, *) }
        parameterBytes = ws.reduce(0) { acc, w in acc + (g.constants[w.name]?.byteCount ?? 0) }
        let unsup = OpSupport.unsupportedNodes(in: g, dependence: try? Dependence(g))
        unsupported = unsup.map { Unsupported(node: $0.name, op: $0.domain.isEmpty ? $0.opType : "\($0.domain).\($0.opType)") }
        for u in unsupported {
            findings.append(Finding(.unsupportedOp, "node '\(u.node)' uses op \(u.op), which the analysis does not support", node: u.node))
        }
        functions = g.model.functions
        notes = g.notes
        self.findings = findings
    }

    public func render(_ format: OutputFormat) throws -> String {
        switch format {
        case .json: return try encodeJSON(self)
        case .text: return text()
        case .markdown: return markdown()
        case .csv:
            var s = "name,shape,dtype,storage,consumers\n"
            for w in weights {
                s += [w.name, w.shape.map(String.init).joined(separator: "x"), w.dtype, w.storage, w.consumers.joined(separator: " ")]
                    .map(FindingsRenderer.csvField).joined(separator: ",") + "\n"
            }
            return s
        default:
            return try FindingsRenderer.render(findings, format: format, modelPath: model.path)
        }
    }

    func valueText(_ v: Value) -> String {
        "\(v.name)  \(v.dtype ?? "?")  [\((v.shape ?? []).map(\.text).joined(separator: ", "))]"
    }

    var opsText: String {
        ops.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
    }

    func text() -> String {
        var s = ""
        s += "Model       \(model.path) (\(TextFormat.bytes(fileBytes)))\n"
        let opsets = model.opsets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        s += "Producer    \(model.producer.isEmpty ? "(not set)" : model.producer) · IR \(model.irVersion) · opsets \(opsets)\n"
        for (i, v) in inputs.enumerated() { s += (i == 0 ? "Inputs      " : "            ") + valueText(v) + "\n" }
        for (i, v) in outputs.enumerated() { s += (i == 0 ? "Outputs     " : "            ") + valueText(v) + "\n" }
        s += "Nodes       \(nodes): \(opsText)\n"
        s += "Parameters  \(TextFormat.grouped(parameters)) (\(TextFormat.bytes(parameterBytes)))\n"
        if !functions.isEmpty { s += "Functions   \(functions.joined(separator: ", "))\n" }
        s += "\nWeights (\(weights.count))\n"
        s += TextFormat.table(["name", "shape", "dtype", "storage", "used by"],
                              weights.map { [$0.name, "[" + $0.shape.map(String.init).joined(separator: ", ") + "]", $0.dtype, $0.storage, $0.consumers.joined(separator: ", ")] })
        s += "\nUnsupported ops: " + (unsupported.isEmpty ? "none\n" : "\(unsupported.count)\n" + unsupported.map { "  \($0.node) (\($0.op))\n" }.joined())
        for f in findings where f.rule != .unsupportedOp { s += "\(f.severity.rawValue): \(f.message)\n" }
        for n in notes { s += "note: \(n)\n" }
        return s
    }

    func markdown() -> String {
        var s = "### Kappa inspect: `\(model.path)`\n\n"
        s += "| | |\n|---|---|\n"
        s += "| Producer | \(model.producer) (IR \(model.irVersion)) |\n"
        s += "| Inputs | \(inputs.map { "`\(valueText($0))`" }.joined(separator: "<br>")) |\n"
        s += "| Outputs | \(outputs.map { "`\(valueText($0))`" }.joined(separator: "<br>")) |\n"
        s += "| Nodes | \(nodes): \(opsText) |\n"
        s += "| Parameters | \(TextFormat.grouped(parameters)) (\(TextFormat.bytes(parameterBytes))) |\n"
        s += "| Unsupported ops | \(unsupported.isEmpty ? "none" : unsupported.map { "`\($0.node)` (\($0.op))" }.joined(separator: ", ")) |\n\n"
        s += "| weight | shape | dtype | storage |\n|---|---|---|---|\n"
        for w in weights { s += "| `\(w.name)` | \(w.shape) | \(w.dtype) | \(w.storage) |\n" }
        return s
    }
}
