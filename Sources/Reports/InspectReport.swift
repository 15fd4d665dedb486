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

    public struct StoredCount: Codable, Sendable, Equatable {
        public var elements = 0
        public var bytes = 0
        mutating func add(elements e: Int, bytes b: Int) { elements += e; bytes += b }
    }

    /// Ops whose integer operands are quantized weights (listed by `inspect` with the floats).
    static let quantizedWeightConsumers: Set<String> = [
        "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger", "DynamicQuantizeMatMul",
        "MatMulIntegerToFloat", "QGemm", "DynamicQuantizeLSTM",
    ]

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
    /// Stored elements and bytes per element type (initializers and Constant nodes, subgraphs included).
    public var stored: [String: StoredCount]
    /// Ops of the nodes inside subgraphs (If branches, Loop/Scan bodies), as stored.
    public var subgraphOps: [String: Int]
    public var weights: [Weight]
    public var unsupported: [Unsupported]
    public var functions: [String]
    public var notes: [String]
    public var findings: [Finding]

    enum CodingKeys: String, CodingKey {
        case tool, model, inputs, outputs, ops, nodes, parameters, weights, unsupported, functions, notes, findings, stored
        case subgraphOps = "subgraph_ops"
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
        for n in g.model.graph.nodes { hist[n.domain.isEmpty || n.domain == "ai.onnx" ? n.opType : "\(n.domain).\(n.opType)", default: 0] += 1 }
        ops = hist
        nodes = g.model.graph.nodes.count

        // Weights: floating-point constants read by nodes that depend on the input.
        var consumersOf: [String: [String]] = [:]
        for idx in g.order {
            let n = g.graph.nodes[idx]
            let live = n.outputs.contains { !$0.isEmpty && g.constants[$0] == nil }
            guard live else { continue }
            for i in n.inputs where !i.isEmpty {
                // Float weights, and integer weights of the quantized ops (stored INT8/UINT8/INT4…).
                if let t = g.constants[i], t.count > 1, t.dataType.isFloatingPoint || Self.quantizedWeightConsumers.contains(n.opType) {
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
        // Parameters as stored: every initializer and Constant-node tensor, subgraphs included,
        // each at its stored size (INT8 = 1 byte), as onnx counts them.
        var byType: [String: StoredCount] = [:]
        func count(_ t: Tensor) {
            guard t.dataType.isNumeric else { return }
            byType[t.dataType.description, default: StoredCount()].add(elements: t.count, bytes: t.byteCount)
        }
        func walk(_ graph: Graph) {
            for t in graph.initializers { count(t) }
            for n in graph.nodes {
                if n.opType == "Constant" {
                    switch n.attributes["value_float"] ?? n.attributes["value_int"] { case .some: byType[n.attributes["value_int"] != nil ? "INT64" : "FLOAT", default: StoredCount()].add(elements: 1, bytes: n.attributes["value_int"] != nil ? 8 : 4); default: break }
                    if let v = n.floats("value_floats") { byType["FLOAT", default: StoredCount()].add(elements: v.count, bytes: 4 * v.count) }
                    if let v = n.ints("value_ints") { byType["INT64", default: StoredCount()].add(elements: v.count, bytes: 8 * v.count) }
                }
                for a in n.attributes.values {
                    switch a {
                    case let .tensor(t): count(t)  // Constant values, ConstantOfShape fills: stored tensors
                    case let .tensors(ts): ts.forEach(count)
                    case let .graph(sub): walk(sub)
                    case let .graphs(subs): subs.forEach(walk)
                    default: break
                    }
                }
            }
        }
        walk(g.model.graph)
        stored = byType
        parameters = byType.values.reduce(0) { $0 + $1.elements }
        parameterBytes = byType.values.reduce(0) { $0 + $1.bytes }
        var opsInSubgraphs: [String: Int] = [:]
        func histogram(_ graph: Graph) {
            for n in graph.nodes {
                for (_, a) in n.attributes {
                    switch a {
                    case let .graph(sub):
                        for m in sub.nodes { opsInSubgraphs[m.domain.isEmpty || m.domain == "ai.onnx" ? m.opType : "\(m.domain).\(m.opType)", default: 0] += 1 }
                        histogram(sub)
                    case let .graphs(subs):
                        for sub in subs {
                            for m in sub.nodes { opsInSubgraphs[m.domain.isEmpty || m.domain == "ai.onnx" ? m.opType : "\(m.domain).\(m.opType)", default: 0] += 1 }
                            histogram(sub)
                        }
                    default: break
                    }
                }
            }
        }
        histogram(g.model.graph)
        subgraphOps = opsInSubgraphs
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
        case .html: return html()
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
        s += "Parameters  \(TextFormat.grouped(parameters)) (\(TextFormat.bytes(parameterBytes)))"
        if stored.count > 1 || stored.keys.first.map({ $0 != "FLOAT" }) == true {
            s += ": " + stored.sorted { $0.value.bytes > $1.value.bytes }
                .map { "\($0.key) \(TextFormat.grouped($0.value.elements)) (\(TextFormat.bytes($0.value.bytes)))" }.joined(separator: ", ")
        }
        s += "\n"
        if !subgraphOps.isEmpty {
            let text = subgraphOps.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            s += "Subgraphs   \(subgraphOps.values.reduce(0, +)) nodes: \(text)\n"
        }
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
