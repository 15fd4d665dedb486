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
        if n.domain == "kappa", n.opType == "If" { return ifMerge(n, ctx) }
        if let r = quantized(n, vars, ctx) { return r }  // LipschitzTable+Quantized
        let standard = n.domain.isEmpty || n.domain == "ai.onnx"
        if standard, ["If", "Loop", "Scan"].contains(n.opType) {
            return .unsupported(vars, "\(n.opType) that Kappa could not inline (a computed trip count or condition, an early exit, or an unknown scan length: see the notes)")
        }
        guard standard, OpSupport.knownOps.contains(n.opType) else {
            let op = standard ? n.opType : "\(n.domain).\(n.opType)"
            return .unsupported(vars, "op \(op) is not in Kappa's Lipschitz table")
        }
        guard let x = vars.first else {
            // No input depends on the data (e.g. Shape of a constant, ConstantOfShape): g = 0.
            return NodeRule(terms: [])
        }
        if ctx.bounds != nil, let r = domainRule(n, vars, ctx) { return r }
        if n.opType == "Sqrt", let r = hypot(n, ctx) { return r }
        if RecurrentNode.Op(rawValue: n.opType) != nil { return recurrent(n, ctx) }
        if let r = activation(n, x, ctx) { return r }
        if let r = discrete(n, x, vars, ctx) { return r }
        if let r = domainOps(n, x, vars, ctx) { return r }
        if let r = shapeOp(n, x, vars, ctx) { return r }
        if let r = pooling(n, x, ctx) { return r }
        if let r = elementwise(n, vars, ctx) { return r }
        switch n.opType {
        case "LRN": return lrn(n, x)
        case "Resize", "Upsample": return resize(n, x, ctx)
        case "LayerNormalization", "InstanceNormalization", "GroupNormalization":
            return .needsDomain(vars, "\(n.opType) divides by the input's own standard deviation: no finite Lipschitz bound near constant inputs")
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

extension LipschitzTable {
    /// The merge node of an If inlined with both branches (`Flattener`): when the condition does
    /// not depend on the perturbation, the output is, for each value of the other inputs, one
    /// branch's function of x, so L ≤ max(L_then, L_else) per output. A condition that depends
    /// on x switches branches inside the domain: a discontinuity in general.
    static func ifMerge(_ n: Node, _ ctx: GraphContext) -> NodeRule {
        let k = n.outputs.count
        guard let cond = n.input(0), n.inputs.count == 1 + 2 * k else {
            return .unsupported(ctx.variableInputs(n), "malformed If merge node")
        }
        if ctx.isVariable(cond) {
            return .unbounded(ctx.variableInputs(n).filter { $0 != cond },
                              "If whose condition depends on the input switches branches: a discontinuity, no Lipschitz bound")
        }
        var rule = NodeRule(terms: [], combine: .max, reason: "If with a condition that does not depend on the input: the larger branch gain")
        rule.outputTerms = (0..<k).map { i in
            [n.inputs[1 + i], n.inputs[1 + k + i]].filter { ctx.isVariable($0) }.map { NodeRule.Term($0, .one) }
        }
        return rule
    }
}

extension LipschitzTable {
    /// √(a² + b² [+ ε]) elementwise (a magnitude, written Sqrt(Add(Pow(a, 2), Pow(b, 2)))): for
    /// each element |δ√(a²+b²+ε)| ≤ √(δa² + δb²) (the map (a, b) ↦ ‖(a, b, √ε)‖ is 1-Lipschitz),
    /// so ‖δy‖ ≤ √(‖δa‖² + ‖δb‖²): root-sum-square of the operands' gains, no domain needed.
    static func hypot(_ n: Node, _ ctx: GraphContext) -> NodeRule? {
        guard let s = n.input(0), let add = ctx.producer(s), add.opType == "Add" || add.opType == "Sum" else { return nil }
        var parts: [String] = []
        for i in add.inputs where !i.isEmpty {
            if let c = ctx.scalar(i), c >= 0 { continue }
            guard let p = ctx.producer(i), let base = squaredOperand(p, ctx), ctx.isVariable(base) else { return nil }
            parts.append(base)
        }
        guard !parts.isEmpty, ctx.shape(s) == parts.first.flatMap({ ctx.shape($0) }),
              parts.allSatisfy({ ctx.shape($0) == ctx.shape(s) }) else { return nil }
        return NodeRule(terms: parts.map { .init($0, .one) }, combine: .rootSumSquare, reason: "√(Σ aᵢ²) pattern: 1-Lipschitz in the operands jointly")
    }
}
