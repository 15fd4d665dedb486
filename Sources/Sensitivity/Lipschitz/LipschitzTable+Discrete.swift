import ONNX

/// Ops whose output jumps (DESIGN.md §1.7): comparisons, logic, indices (ArgMax, TopK's
/// indices, NonZero, NonMaxSuppression), Sign, a threshold — discontinuous maps of the input,
/// reported unbounded with the reason; and the rounding ops (Floor, Ceil, Round, Cast to an
/// integer type), which Kappa treats as quantizers: a rounding point of Eq. 8 whose identity
/// part has L = 1 in Eq. 7 (the paper's model: the rounding error is a perturbation), as for
/// QuantizeLinear. A bool test IsNaN/IsInf of a finite real value is constant false, so it
/// does not depend on the input (it carries no gain).
extension LipschitzTable {
    static let comparisons: Set<String> = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Not"]
    static let indexOps: Set<String> = ["ArgMax", "ArgMin", "NonZero", "NonMaxSuppression", "Hardmax", "OneHot"]
    /// Ops Kappa treats as quantizers (rounding points of Eq. 8).
    public static let roundingOps: Set<String> = ["Floor", "Ceil", "Round"]

    static func discrete(_ n: Node, _ x: String, _ vars: [String], _ ctx: GraphContext) -> NodeRule? {
        let op = n.opType
        if comparisons.contains(op) {
            return .discontinuity(vars, "\(op) of input-dependent values switches between true and false")
        }
        if indexOps.contains(op) {
            return .discontinuity(vars, "\(op) of input-dependent values jumps between indices")
        }
        switch op {
        case "IsNaN", "IsInf":
            // Over real inputs (the domain of the analysis) the test is constant false.
            return NodeRule.independent
        case "Sign":
            return .discontinuity(vars, "Sign jumps at 0")
        case "ThresholdedRelu":
            let a = Double(n.float("alpha") ?? 1)
            return a == 0 ? .lipschitz(x, 1, "ThresholdedRelu with α = 0 is ReLU")
                          : .discontinuity(vars, "ThresholdedRelu jumps by α = \(a) at x = α")
        case "Shrink":
            let lambd = Double(n.float("lambd") ?? 0.5), bias = Double(n.float("bias") ?? 0)
            return bias == lambd ? .lipschitz(x, 1, "Shrink with bias = λ is continuous, slopes 0 and 1")
                                 : .discontinuity(vars, "Shrink jumps by |λ − bias| = \(abs(lambd - bias)) at ±λ")
        case "TopK":
            // Values: the first k of the sorted slice; sorting is 1-Lipschitz in ℓ2 (a composition
            // of compare-exchange steps, each non-expansive on its pair) and a slice is a
            // projection. Indices: a discontinuity.
            var rule = NodeRule.lipschitz(x, 1, "the top-k values are 1-Lipschitz (sorting is non-expansive)")
            rule.outputTerms = [[.init(x, .one)], [.init(x, .unbounded)]]
            if let indices = n.outputs.dropFirst().first, !indices.isEmpty, ctx.isVariable(indices),
               !(ctx.graph.consumers[indices] ?? []).isEmpty {
                rule.status = .unbounded
                rule.reason = "the top-k values are 1-Lipschitz, but the indices output (used downstream) is a discontinuity"
            }
            return rule
        case "Floor", "Ceil", "Round":
            var r = NodeRule.lipschitz(x, 1, "\(op) rounds to integers: a rounding point of Eq. 8 (Eq. 7 bounds its identity part)")
            r.roundingPoint = true
            return r
        case "Cast", "CastLike":
            let to = op == "Cast" ? n.int("to").flatMap { DataType(rawValue: Int32(truncatingIfNeeded: $0)) } : ctx.dtype(n.input(1))
            guard let to, !to.isFloatingPoint else { return nil }
            if to == .bool { return .discontinuity(vars, "Cast to BOOL of input-dependent values switches at 0") }
            guard ctx.dtype(x)?.isFloatingPoint ?? true else { return .lipschitz(x, 1) }
            var r = NodeRule.lipschitz(x, 1, "Cast to \(to) rounds toward zero: a rounding point of Eq. 8 (Eq. 7 bounds its identity part)")
            r.roundingPoint = true
            return r
        default:
            return nil
        }
    }
}
