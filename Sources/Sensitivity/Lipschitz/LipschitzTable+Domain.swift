import Foundation
import ONNX

/// Ops with no global Lipschitz constant but a finite one on a bounded input domain
/// (DESIGN.md §1.8): their derivative grows without bound (Exp, Pow > 1, a product), or has a
/// pole (Sqrt, Log, Reciprocal, Pow < 1 at 0). Without `--input-range` they are unbounded with a
/// KAPPA006 finding naming the flag; the domain rules bound them on the declared domain. The
/// ones with a global constant are here too: Sin and Cos (|sin'| ≤ 1), Pow with exponent 1.
extension LipschitzTable {
    static func domainOps(_ n: Node, _ x: String, _ vars: [String], _ ctx: GraphContext) -> NodeRule? {
        switch n.opType {
        case "Sin", "Cos":
            return .lipschitz(x, 1, "|\(n.opType == "Sin" ? "cos" : "sin")| ≤ 1")
        case "Exp":
            return .needsDomain(vars, "exp has an unbounded derivative")
        case "Log":
            return .needsDomain(vars, "log has a pole at 0")
        case "Sqrt":
            return .needsDomain(vars, "sqrt has an infinite derivative at 0")
        case "Reciprocal":
            return .needsDomain(vars, "1/x has a pole at 0")
        case "Tan":
            return .needsDomain(vars, "tan has poles")
        case "Pow":
            guard n.input(0) == x, vars.count == 1, let p = ctx.scalar(n.input(1)) else {
                return .needsDomain(vars, "Pow with an input-dependent exponent has no global Lipschitz bound")
            }
            if p == 1 { return .lipschitz(x, 1, "x¹") }
            if p == 0 { return NodeRule.independent }
            return .needsDomain(vars, p > 1 ? "x^\(NumberText.value(p)) has an unbounded derivative" : "x^\(NumberText.value(p)) has an infinite derivative at 0")
        case "ReduceSumSquare":
            return .needsDomain(vars, "a sum of squares has an unbounded derivative")
        case "ReduceProd":
            return .needsDomain(vars, "a product of input-dependent values has no global Lipschitz bound")
        case "ReduceLogSum":
            return .needsDomain(vars, "log of a sum has a pole at 0")
        default:
            return nil
        }
    }
}
