import ONNX

/// Data movement: reshapes, permutations, copies and selections have L = 1; a selection
/// that repeats elements has L = √(max multiplicity) (DESIGN.md §1.2–1.3).
extension LipschitzTable {
    static func shapeOp(_ n: Node, _ x: String, _ vars: [String], _ ctx: GraphContext) -> NodeRule? {
        switch n.opType {
        case "Dropout", "Identity", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Split", "Slice":
            // Reshape/Slice/Split with shape arguments that depend on the data are still
            // piecewise-constant in those arguments; only the data operand carries a gain.
            return n.input(0) == x ? .lipschitz(x, 1) : NodeRule(terms: [])
        case "Shape", "Size":
            return NodeRule(terms: [])
        case "Cast":
            let to = n.int("to").flatMap { DataType(rawValue: Int32(truncatingIfNeeded: $0)) }
            if let to, to.isFloatingPoint { return .lipschitz(x, 1) }
            return .unbounded(vars, "Cast to \(to?.description ?? "a non-float type") rounds to integers: not Lipschitz")
        case "Pad":
            guard n.input(0) == x else { return .unbounded(vars, "Pad whose pads depend on the input") }
            let mode = n.string("mode") ?? "constant"
            if mode == "constant" { return .lipschitz(x, 1) }
            // edge/reflect copy border elements: multiplicity ≤ 1 + max pad (edge), ≤ 2 (reflect) per axis.
            let pads = n.ints("pads") ?? ctx.constant(n.input(1))?.int64s().map { Int($0) }
            guard let p = pads, !p.isEmpty else { return .unbounded(vars, "Pad mode \(mode) with unknown pads") }
            let r = p.count / 2
            var mult = 1.0
            for a in 0..<r where p[a] > 0 || p[a + r] > 0 {
                mult *= mode == "reflect" ? 2 : Double(1 + max(p[a], p[a + r]))
            }
            return .lipschitz(x, mult.squareRoot(), "√(max copies), mode \(mode)")
        case "Concat":
            return NodeRule(terms: vars.map { .init($0, .one) }, combine: .rootSumSquare)
        case "Gather":
            guard n.input(0) == x else {
                return .unbounded(vars, "Gather with indices that depend on the input (an embedding lookup) is not Lipschitz")
            }
            if vars.count > 1 { return .unbounded(vars, "Gather with indices that depend on the input is not Lipschitz") }
            guard let idx = ctx.constant(n.input(1)) else { return .lipschitz(x, 1) }
            var seen: [Int64: Int] = [:]
            let dim = ctx.shape(x).flatMap { s in Shapes.axis(n.int("axis") ?? 0, rank: s.count).map { s[$0] } }
            for i in idx.int64s() {
                let k = i < 0 ? i + Int64(dim ?? 0) : i
                seen[k, default: 0] += 1
            }
            let m = seen.values.max() ?? 1
            return m > 1 ? .lipschitz(x, Double(m).squareRoot(), "√(max multiplicity), an index repeats \(m)×")
                         : .lipschitz(x, 1)
        default:
            return nil
        }
    }
}
