import ONNX

/// Elementwise nodes with more than one operand (DESIGN.md §1.2–1.3):
/// Add/Sub/Sum of variable tensors add their gains (a residual block gives 1 + L_f);
/// constant operands contribute nothing (a BatchNormalization folded into Mul/Add keeps its
/// Mul as a diagonal weight layer and its Add as L = 1). A Mul of two variable tensors is a
/// gate pattern (SiLU, HardSwish) or unbounded; a Div by a variable is unbounded.
/// QuantizeLinear/DequantizeLinear scale by 1/s and s.
extension LipschitzTable {
    static func elementwise(_ n: Node, _ vars: [String], _ ctx: GraphContext) -> NodeRule? {
        switch n.opType {
        case "Add", "Sub", "Sum", "Max", "Min", "Mean":
            let g = n.opType == "Mean" ? 1 / Double(max(n.inputs.filter { !$0.isEmpty }.count, 1)) : 1
            // Max/Min are 1-Lipschitz in each operand jointly bounded by the sum.
            return NodeRule(terms: vars.map { .init($0, ModePair(g)) })
        case "Neg", "Abs":
            return .lipschitz(vars[0], 1)
        case "Mul":
            if vars.count == 1 {
                guard let c = n.inputs.first(where: { !$0.isEmpty && $0 != vars[0] }).flatMap({ ctx.constant($0) }) else {
                    return .lipschitz(vars[0], 1)
                }
                let m = (0..<c.count).reduce(0.0) { max($0, abs(c.double(at: $1))) }
                return .lipschitz(vars[0], m, "max|c|")
            }
            if let gate = gate(n, ctx) { return gate }
            return .unbounded(vars, "Mul of two tensors that both depend on the input (a product such as attention) has no global Lipschitz bound")
        case "Div":
            if n.input(1).map({ ctx.isConstant($0) }) == false {
                return .unbounded(vars, "Div by a tensor that depends on the input has no Lipschitz bound")
            }
            return nil
        case "MatMul" where vars.count > 1:
            return .unbounded(vars, "MatMul of two tensors that both depend on the input (attention) has no global Lipschitz bound")
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
