import ONNX

/// The Lipschitz constants (ℓ2) of the nodes that are not weight layers, DESIGN.md §1.2.
/// One file per op family (`LipschitzTable+Activations.swift`, `+Pooling`, `+LRN`,
/// `+Resize`, `+Shape`, `+Elementwise`, `+Gate`); this file dispatches.
///
/// Every node gets a rule: a finite constant, "unbounded" with the reason (attention
/// products, normalisations that divide by a data-dependent statistic), or
/// "unsupported" for an op outside the table. Nothing is skipped silently.
public enum LipschitzTable {
    public static func rule(for n: Node, in ctx: GraphContext) -> NodeRule {
        let vars = ctx.variableInputs(n)
        if let r = quantized(n, vars, ctx) { return r }  // LipschitzTable+Quantized
        let standard = n.domain.isEmpty || n.domain == "ai.onnx"
        guard standard, OpSupport.knownOps.contains(n.opType) else {
            let op = standard ? n.opType : "\(n.domain).\(n.opType)"
            return .unsupported(vars, "op \(op) is not in Kappa's Lipschitz table")
        }
        guard let x = vars.first else {
            // No input depends on the data (e.g. Shape of a constant, ConstantOfShape): g = 0.
            return NodeRule(terms: [])
        }
        if let r = activation(n, x, ctx) { return r }
        if let r = shapeOp(n, x, vars, ctx) { return r }
        if let r = pooling(n, x, ctx) { return r }
        if let r = elementwise(n, vars, ctx) { return r }
        switch n.opType {
        case "LRN": return lrn(n, x)
        case "Resize", "Upsample": return resize(n, x, ctx)
        case "LayerNormalization":
            return .unbounded(vars, "LayerNormalization divides by the input's own standard deviation: no finite Lipschitz bound near constant inputs")
        case "InstanceNormalization":
            return .unbounded(vars, "InstanceNormalization divides by the input's own standard deviation: no finite Lipschitz bound near constant inputs")
        case "BatchNormalization":
            return .unbounded(vars, "BatchNormalization whose scale or variance is not a constant (training mode?)")
        case "Conv", "ConvTranspose", "Gemm", "MatMul":
            if vars.count > 1 {
                return .unbounded(vars, "\(n.opType) of two tensors that both depend on the input (a product, e.g. attention) has no global Lipschitz bound")
            }
            return .unbounded(vars, "\(n.opType) whose weight is computed at run time (not a constant): its norm is not known statically")
        default:
            return .unsupported(vars, "op \(n.opType) is recognised but has no Lipschitz rule for these operands")
        }
    }
}
