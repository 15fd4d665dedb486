import ONNX

/// Which ONNX operators the sensitivity analysis knows (DESIGN.md §1.2). An op outside
/// this set is *unsupported*: it is named in every report with its node, the network bound
/// becomes unbounded, and everything else is still computed.
///
/// `knownOps` is the single source of truth for `kappa inspect`'s "unsupported" list and
/// for the Lipschitz table; ops in it may still be unbounded for some operands (a Mul of
/// two variable tensors, LayerNormalization) — that is decided per node by the table.
public enum OpSupport {
    public static let knownOps: Set<String> = QuantizedOps.standard.union([
        // weight layers
        "Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization",
        // activations and shape ops with L = 1 (or a closed form)
        "Relu", "Clip", "Tanh", "Softplus", "Dropout", "Identity", "Flatten", "Reshape", "Transpose",
        "Squeeze", "Unsqueeze", "Cast", "Pad", "GlobalMaxPool", "ReduceMax", "Split", "Slice", "Gather",
        "LeakyRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Gelu",
        "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "ReduceSum", "LRN",
        "Resize", "Upsample", "Softmax", "LogSoftmax", "Softsign", "Neg", "Abs",
        "ReduceMin", "ReduceL1", "ReduceL2", "Size",
        "LSTM", "GRU", "RNN",
        // graph structure
        "Add", "Sub", "Sum", "Max", "Min", "Mean", "Concat", "Mul", "Div",
        // constants and quantization
        "Constant", "ConstantOfShape", "Shape", "QuantizeLinear", "DequantizeLinear",
        // recognised but unbounded
        "LayerNormalization", "InstanceNormalization", "GroupNormalization",
        // modern exports: activations, selections, reductions
        "Erf", "Mish", "Celu", "PRelu", "ThresholdedRelu", "Shrink", "Sin", "Cos", "Expand", "Tile", "Where",
        "GatherElements", "GatherND", "Einsum", "ReduceLogSumExp", "CumSum", "TopK", "Range",
        // discontinuities and rounding (named, never silently 1)
        "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Not", "ArgMax", "ArgMin",
        "NonZero", "NonMaxSuppression", "Hardmax", "OneHot", "Sign", "Floor", "Ceil", "Round", "IsNaN", "IsInf", "CastLike",
        // unbounded without a domain
        "Exp", "Log", "Sqrt", "Reciprocal", "Pow", "Tan", "ReduceSumSquare", "ReduceProd", "ReduceLogSum",
    ])

    /// Nodes of `graph` whose op is outside the table (custom domains included), among the
    /// nodes that depend on the perturbation (folded and input-independent nodes are never
    /// analysed, whatever their op).
    public static func unsupportedNodes(in graph: ModelGraph, dependence: Dependence?) -> [Node] {
        // Nodes absorbed into a dynamic-quantized layer (the Floor of a run-time bias) are analysed with it.
        let absorbed = dependence.map { QuantizedGraph(graph, dependence: $0).absorbed } ?? [:]
        return graph.order.filter { absorbed[$0] == nil }.map { graph.graph.nodes[$0] }.filter { n in
            let live = n.inputs.contains { !$0.isEmpty && (dependence?.isDependent($0) ?? (graph.constants[$0] == nil)) }
            let foldedAway = !n.outputs.isEmpty && n.outputs.allSatisfy { $0.isEmpty || graph.constants[$0] != nil }
            let standardDomain = n.domain.isEmpty || n.domain == "ai.onnx"
            return live && !foldedAway && !QuantizedOps.isKnown(n) && (!standardDomain || !knownOps.contains(n.opType))
        }
    }
}
