import ONNX

/// What the analysis needs to know about a quantized graph beyond single nodes, found once per
/// analysis (``GraphContext`` holds it):
/// - `shapes`: output shapes of the quantized ops and everything downstream, which the loader's
///   shape inference leaves unknown (``ModelGraph/shapesWithQuantizedOps()``);
/// - the dynamic-quantization layers (onnxruntime `quantize_dynamic`): a DynamicQuantizeLinear
///   and the MatMulInteger/ConvInteger → Cast → Mul chains that rescale its output, each chain
///   one weight layer from x to the rescaled output (see ``DynamicLayer``), the nodes in between
///   absorbed; where the pattern does not match, the reason for each node involved.
public struct QuantizedGraph: Sendable {
    /// One dynamic-quantization chain, analysed as one weight layer from `input` (x, the
    /// DynamicQuantizeLinear's input) to the output of the node it is keyed by.
    ///
    /// DynamicQuantizeLinear gives s = (max(0, max x) − min(0, min x))/255, z = round(−min/s) and
    /// x_q = round(x/s) + z; with the rounding removed x_q − z = x/s. The integer op computes
    /// (x_q − z) ⋆ (w_q − z_w) (MatMulInteger: (x_q − z)·(w_q − z_w); ConvInteger: the
    /// convolution, zero-padded after subtracting z), then Cast, Mul by c·s (c the constant
    /// factor, usually the weight scale w_s, per tensor or per output channel), and optionally
    /// an integer bias ⌊b/(s·w_s)⌋ added before the Cast. So the chain computes
    /// y = c·s·((x/s) ⋆ W_q) + b = x ⋆ (c ⊙ W_q) + b with W_q = w_q − z_w: a weight layer
    /// with the weight c ⊙ (w_q − z_w), whose input x is the rounding point of the quantizer.
    /// The integer op, Cast, Mul and scale nodes are absorbed (no rule of their own: each alone
    /// would be unbounded, since s depends on x).
    public struct DynamicLayer: Sendable {
        public enum Kind: Sendable {
            /// MatMulInteger(x_q, B) → … ; the weight is B (K × N), the factor per column n.
            case matMulInteger
            /// ConvInteger(x_q, W) → … ; the weight is W (M, C/g, k…), the factor per output channel m.
            case convInteger
            /// com.microsoft MatMulIntegerToFloat(x_q, B, a_scale = c·s, b_scale): the fused form.
            case matMulIntegerToFloat
            /// DequantizeLinear(x_q, c·s, z): the quantizer undone, y = c·x (fake quantization).
            case dequantize
        }
        public var kind: Kind
        /// Node index of the DynamicQuantizeLinear.
        public var quantizer: Int
        /// Node index of the op that reads x_q.
        public var integerOp: Int
        /// x, the DynamicQuantizeLinear's input.
        public var input: String
        /// The constant factor c: one value, or one per output channel.
        public var factor: [Double]
        /// Node names from the quantizer to the output, for the report.
        public var path: [String]
    }

    /// Shapes the loader's inference could not give (quantized ops and their consumers).
    public let shapes: [String: [Int]]
    /// Dynamic layers by the node index of their output node.
    public let dynamicLayers: [Int: DynamicLayer]
    /// Absorbed nodes (index → the layer they belong to, for the reason text).
    public let absorbed: [Int: String]
    /// Nodes of dynamic-quantization patterns that did not match (index → why).
    public let unmatched: [Int: String]

    static let quantizedOps = QuantizedOps.all

    public init(_ graph: ModelGraph, dependence: Dependence) {
        let nodes = graph.graph.nodes
        let hasQuantized = graph.order.contains { Self.quantizedOps.contains(nodes[$0].opType) }
        shapes = hasQuantized ? graph.shapesWithQuantizedOps() : [:]
        var matcher = DynamicPatternMatcher(graph: graph, dependence: dependence, shapes: shapes)
        for idx in graph.order where nodes[idx].opType == "DynamicQuantizeLinear" && QuantizedOps.isStandardOrContrib(nodes[idx]) {
            matcher.match(quantizer: idx)
        }
        dynamicLayers = matcher.layers
        absorbed = matcher.absorbed
        unmatched = matcher.unmatched
    }
}
