import ONNX
import Sensitivity

/// Sound elementwise bounds of every tensor of a model over an input domain (DESIGN.md §1.8).
public enum IntervalEvaluator {
    /// Bounds of every tensor the graph computes (and its constants are exact points), given
    /// bounds of the graph inputs (and of any internal tensor in `domain`, which overrides its producer).
    public static func bounds(graph: ModelGraph, domain: [String: TensorBounds], needed: Set<String>? = nil) throws(ReferenceError) -> [String: TensorBounds] {
        var run = try IntervalRun(graph: graph, domain: domain, needed: needed)
        return try run.evaluate()
    }

    /// The rule for a node's op, nil when there is none (the outputs are unbounded).
    static func rule(for n: Node) -> IntervalRule? {
        switch n.domain {
        case "", "ai.onnx": return rules[n.opType]
        case "com.microsoft": return ["QuantizeLinear", "DequantizeLinear"].contains(n.opType) ? rules[n.opType] : nil
        case "kappa": return n.opType == "If" ? StructureRules.ifMerge : nil
        default: return nil
        }
    }

    static let rules: [String: IntervalRule] = Dictionary(
        [StructureRules.rules, TypeRules.rules, KernelRules.rules, Activations.rules, Elementary.rules,
         BinaryRules.rules, ConvRules.rules, MatMulRules.rules, EinsumRule.rules, ReduceRules.rules,
         NormalizationRules.rules, SoftmaxRules.rules, RecurrentRules.rules].flatMap { $0.map { ($0.key, $0.value) } }, uniquingKeysWith: { first, _ in first })
}
