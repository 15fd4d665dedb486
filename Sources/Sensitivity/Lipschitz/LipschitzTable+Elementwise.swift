import ONNX

/// Elementwise nodes with more than one operand (DESIGN.md §1.2–1.3):
/// Add/Sub/Sum of variable tensors add their gains, each × √(broadcast multiplicity) (a
/// residual block gives 1 + L_f);
/// constant operands contribute nothing (a BatchNormalization folded into Mul/Add keeps its
/// Mul as a diagonal weight layer and its Add as L = 1). A Mul of two variable tensors is a
/// gate pattern (SiLU, HardSwish) or unbounded; a Div by a variable is unbounded.
/// QuantizeLinear/DequantizeLinear scale by 1/s and s.
extension LipschitzTable {
    static func elementwise(_ n: Node, _ vars: [String], _ ctx: GraphContext) -> NodeRule? {
        switch n.opType {
        case "Add", "Sub", "Sum", "Max", "Min", "Mean":
            let g = n.opType == "Mean" ? 1 / Double(max(n.inputs.filter { !$0.isEmpty }.count, 1)) : 1
            // Each operand counts with √(its broadcast multiplicity) (see `Broadcast`); Max/Min
            // are 1-Lipschitz in each operand jointly, bounded by the same sum.
            let out = ctx.shape(n.outputs.first)
            var terms: [NodeRule.Term] = []
            for v in vars {
                guard let m = Broadcast.gain(operand: ctx.shape(v), output: out) else {
                    return .unbounded(vars, "\(n.opType) whose operand shapes are not known, so neither is how often a broadcast operand is copied (fix the input shape with --input-shape)")
                }
                terms.append(.init(v, ModePair(g * m)))
            }
            return NodeRule(terms: terms, reason: terms.contains { !$0.gain.isOne } ? "√(broadcast multiplicity) per operand" : nil)
        case "Neg", "Abs":
            return .lipschitz(vars[0], 1)
        case "Mul":
            if vars.count == 1 {
                guard let other = n.inputs.first(where: { !$0.isEmpty && $0 != vars[0] }) else {
                    return .lipschitz(vars[0], 1)  // x·x is two variables; a lone operand is not valid ONNX
                }
                guard let c = ctx.constant(other) else {
                    return .unbounded(vars, "Mul by '\(other)', which does not depend on the perturbed input but is computed at run time: its size is not known statically")
                }
                let m = Broadcast.fiberNorm(variable: ctx.shape(vars[0]), weights: (0..<c.count).map { c.double(at: $0) }, weightShape: c.dims)
                return .lipschitz(vars[0], m, "largest fiber norm of the constant")
            }
            if let gate = gate(n, ctx) { return gate }
            return .needsDomain(vars, "Mul of two tensors that both depend on the input (a gate or an attention product) has no global Lipschitz bound")
        case "Div":
            guard let d = n.input(1) else { return nil }
            if ctx.isVariable(d) {
                return .needsDomain(vars, "Div by a tensor that depends on the input has no global Lipschitz bound")
            }
            if !ctx.isConstant(d) {
                return .unbounded(vars, "Div by '\(d)', which does not depend on the perturbed input but is computed at run time: its size is not known statically")
            }
            return nil
        case "MatMul" where vars.count > 1:
            return .needsDomain(vars, "MatMul of two tensors that both depend on the input (attention) has no global Lipschitz bound")
        case "QuantizeLinear", "DequantizeLinear":
            guard n.input(0) == vars[0], vars.count == 1, let s = ctx.constant(n.input(1)) else {
                return .unbounded(vars, "\(n.opType) with a scale that depends on the input")
            }
            var l = 0.0
            for i in 0..<s.count {
                let v = abs(s.double(at: i))
                l = max(l, n.opType == "QuantizeLinear" ? (v == 0 ? .infinity : 1 / v) : v)
            }
            guard l.isFinite else { return .unbounded(vars, "QuantizeLinear with a zero scale") }
            return .lipschitz(vars[0], l, n.opType == "QuantizeLinear" ? "max 1/|scale| (rounding counted in Eq. 8)" : "max |scale|")
        default:
            return nil
        }
    }
}
