import ONNX

/// The activation quantizers among a graph's nodes, Eq. 8's rounding points besides the
/// weight layers' inputs (DESIGN.md §1.4, §1.7):
/// - the output of a DequantizeLinear whose input a QuantizeLinear (or a DynamicQuantizeLinear)
///   rounded: the QDQ pair, where the rounding error enters in real units;
/// - the output of a QuantizeLinear that feeds integer ops (not only DequantizeLinear): the
///   QOperator input quantizer, rounding in units of its step;
/// - the (integer) output of every op that re-quantizes its result: QLinearConv, QLinearMatMul,
///   the com.microsoft QLinear ops and QGemm with an output scale.
/// A dynamic quantizer rounds the input of the layer it is absorbed into, which is already a
/// rounding point. Only tensors that depend on the input count.
///
/// **Units.** E = Σ_r h(r)·u_r sums the gains from a unit rounding error at each point, in the
/// units of the real values: for a real tensor u = 1; for an integer tensor q holding
/// x = s·(q − z) a unit error of x is 1/s steps of q, so δy = h(q)·δq = h(q)·δx/s and
/// u = max 1/|s| (``unit(of:_:)``). The same network quantized as QDQ (points on the
/// dequantized tensors) and as QOperator (points on the integer tensors) then has the same E
/// where the scales telescope.
enum QuantizedRounding {
    static func points(of n: Node, _ ctx: GraphContext) -> [String] {
        guard QuantizedOps.isStandardOrContrib(n), let out = n.outputs.first, !out.isEmpty, ctx.isVariable(out) else { return [] }
        switch n.opType {
        case "DequantizeLinear":
            guard let p = n.input(0).flatMap({ ctx.producer($0) }), QuantizedOps.isStandardOrContrib(p),
                  p.opType == "QuantizeLinear" || p.opType == "DynamicQuantizeLinear" else { return [] }
            return [out]
        case "QuantizeLinear":
            let users = ctx.graph.consumers[out] ?? []
            let onlyDequantized = !users.isEmpty && users.allSatisfy { ctx.graph.graph.nodes[$0].opType == "DequantizeLinear" }
            return onlyDequantized ? [] : [out]
        case "QGemm":
            return n.input(7) == nil ? [] : [out]
        default:
            let requantizes = n.domain == "com.microsoft" || QuantizedOps.standard.contains(n.opType)
            return requantizes && QuantizedOps.requantizing.contains(n.opType) ? [out] : []
        }
    }

    /// u_r for a rounding point (see the type's description): 1 for floating-point tensors;
    /// max 1/|s| for an integer tensor with the scale s of the quantizer that made it (a
    /// QuantizeLinear or the output scale of a QLinear op), found through data-movement ops
    /// (MaxPool, Reshape …: they copy integer values, the scale is unchanged); 1 when no scale
    /// is found (the point then counts in integer steps).
    static func unit(of t: String, _ ctx: GraphContext) -> Double {
        var name = t
        for _ in 0..<64 {
            if ctx.dtype(name)?.isFloatingPoint ?? true { return 1 }
            guard let p = ctx.producer(name), QuantizedOps.isStandardOrContrib(p) else { return 1 }
            let scaleInput: Int?
            switch p.opType {
            case "QuantizeLinear": scaleInput = 1
            case "QLinearConv", "QLinearMatMul", "QLinearAdd", "QLinearMul": scaleInput = 6
            case "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "QLinearGlobalAveragePool", "QLinearAveragePool": scaleInput = 3
            case "QLinearConcat": scaleInput = 0
            case "QGemm": scaleInput = 7
            case "MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Slice", "Split", "Gather", "Pad":
                guard let x = p.input(0) else { return 1 }
                name = x
                continue
            default: return 1
            }
            guard let i = scaleInput, let s = ctx.constant(p.input(i)), s.count > 0 else { return 1 }
            let u = (0..<s.count).reduce(0.0) { max($0, 1 / abs(s.double(at: $1))) }
            return u.isFinite ? u : 1
        }
        return 1
    }
}
