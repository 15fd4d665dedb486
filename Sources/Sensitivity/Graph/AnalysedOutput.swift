import ONNX

/// The analysed output y (DESIGN.md §1, §1.7) — one definition for every command:
/// 1. `--output NAME` when given (it must be a floating-point tensor that depends on the
///    perturbation);
/// 2. else the input of a final Softmax/LogSoftmax (the logits, "the layer before the
///    softmax" in the paper), looking through shape-only ops (Identity, Dropout, Flatten,
///    Reshape, Squeeze, Unsqueeze, Transpose) after it, over the graph outputs in order;
/// 3. else the first graph output that is floating point and depends on the perturbation.
/// Integer/bool outputs, outputs that do not depend on the perturbation and outputs that are a
/// perturbed tensor passed straight through are never picked. When several outputs qualify,
/// `note` names the alternatives.
public struct AnalysedOutput: Sendable, Equatable {
    public enum Choice: Sendable, Equatable {
        case requested
        /// The input of this Softmax/LogSoftmax node, which feeds `graphOutput`.
        case softmaxInput(node: String, graphOutput: String)
        case firstFloatOutput
    }
    public var tensor: String
    public var choice: Choice
    /// Other graph outputs that could have been analysed.
    public var alternatives: [String]

    /// A sentence for the report's notes when the choice was not forced.
    public var note: String? {
        guard !alternatives.isEmpty, choice != .requested else { return nil }
        let others = alternatives.prefix(6).map { "'\($0)'" }.joined(separator: ", ") + (alternatives.count > 6 ? ", …" : "")
        return "analysed output '\(tensor)' (\(how)); other floating-point outputs: \(others) — pick one with --output"
    }

    /// How the tensor was chosen, in words.
    public var how: String {
        switch choice {
        case .requested: return "--output"
        case let .softmaxInput(node, out): return "the input of \(node) feeding graph output '\(out)'"
        case .firstFloatOutput: return "the first floating-point graph output that depends on the input"
        }
    }

    static let passThrough: Set<String> = ["Identity", "Dropout", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose"]

    public static func select(_ graph: ModelGraph, dependence: Dependence, requested: String?) throws(SensitivityError) -> AnalysedOutput {
        let path = graph.path
        let entryNames = Set(dependence.entries.map(\.tensor))
        if let r = requested {
            guard graph.producer[r] != nil || graph.inputs.contains(where: { $0.name == r }) || graph.constants[r] != nil else {
                throw .unknownOutput(path: path, name: r)
            }
            if let t = graph.dtypes[r], !t.isFloatingPoint { throw .outputNotAnalysable(path: path, name: r, reason: "it is a \(t) tensor; only floating-point outputs have a Lipschitz bound") }
            guard dependence.isDependent(r) else {
                throw .outputNotAnalysable(path: path, name: r, reason: "it does not depend on the perturbed input (\(dependence.entries.map(\.tensor).joined(separator: ", ")))")
            }
            return AnalysedOutput(tensor: r, choice: .requested, alternatives: [])
        }
        guard !graph.graph.outputs.isEmpty else { throw .noOutput(path: path) }
        var candidates: [String] = []
        var rejected: [String] = []
        for o in graph.graph.outputs.map(\.name) {
            if let t = graph.dtypes[o], !t.isFloatingPoint { rejected.append("'\(o)' is \(t)"); continue }
            guard dependence.isDependent(o) else { rejected.append("'\(o)' does not depend on the input"); continue }
            if passesThrough(graph, o, entries: entryNames) { rejected.append("'\(o)' passes the input straight through"); continue }
            candidates.append(o)
        }
        guard let first = candidates.first else {
            throw .outputNotAnalysable(path: path, name: graph.graph.outputs.map(\.name).joined(separator: ", "),
                                       reason: "no graph output is a floating-point tensor that depends on the input (\(rejected.joined(separator: "; ")))")
        }
        for o in candidates {
            var t = o
            for _ in 0..<8 {
                guard let p = graph.producerNode(of: t), let i = p.input(0) else { break }
                if p.opType == "Softmax" || p.opType == "LogSoftmax" {
                    if dependence.isDependent(i) {
                        return AnalysedOutput(tensor: i, choice: .softmaxInput(node: p.name, graphOutput: o),
                                              alternatives: candidates.filter { $0 != o })
                    }
                    break
                }
                guard passThrough.contains(p.opType) else { break }
                t = i
            }
        }
        return AnalysedOutput(tensor: first, choice: .firstFloatOutput, alternatives: Array(candidates.dropFirst()))
    }

    /// Whether `t` is a perturbed tensor copied through Identity-like nodes only.
    static func passesThrough(_ graph: ModelGraph, _ t: String, entries: Set<String>) -> Bool {
        var cur = t
        for _ in 0..<16 {
            if entries.contains(cur) { return true }
            guard let p = graph.producerNode(of: cur), ["Identity", "Dropout", "Cast", "CastLike"].contains(p.opType),
                  let i = p.input(0) else { return false }
            cur = i
        }
        return false
    }
}
