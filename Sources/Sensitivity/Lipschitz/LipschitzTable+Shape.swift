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
            let modeName = n.string("mode") ?? "constant"
            guard let mode = PadMode(rawValue: modeName) else { return .unsupported(vars, "Pad mode '\(modeName)' is not in the table") }
            if mode == .constant { return .lipschitz(x, 1) }
            // edge/reflect/wrap copy elements: L = √(max copies of one element), the product over
            // axes of each axis's largest multiplicity (exact for a known extent, else the worst case).
            let pads = n.ints("pads") ?? ctx.constant(n.input(1))?.int64s().map { Int(clamping: $0) }
            guard var p = pads, !p.isEmpty, p.count % 2 == 0 else { return .unbounded(vars, "Pad mode \(modeName) with pads that are not known statically") }
            let shape = ctx.shape(x)
            if let axesT = ctx.constant(n.input(3)), let r = shape?.count {
                var full = Array(repeating: 0, count: 2 * r)
                let axes = axesT.int64s().compactMap { Shapes.axis(Int(clamping: $0), rank: r) }
                for (i, a) in axes.enumerated() where i + axes.count < p.count {
                    full[a] = p[i]
                    full[a + r] = p[i + axes.count]
                }
                p = full
            }
            let r = p.count / 2
            var mult = 1.0
            for a in 0..<r where p[a] > 0 || p[a + r] > 0 {
                let extent = shape.flatMap { $0.count == r ? $0[a] : nil }
                mult *= Double(mode.maxMultiplicity(extent: extent, begin: p[a], end: p[a + r]))
            }
            return .lipschitz(x, mult.squareRoot(), "√(max copies of one element) = √\(NumberText.value(mult)), mode \(modeName)")
        case "Concat":
            return NodeRule(terms: vars.map { .init($0, .one) }, combine: .rootSumSquare)
        case "Gather":
            guard n.input(0) == x else {
                return .unbounded(vars, "Gather with indices that depend on the input (an embedding lookup) is not Lipschitz")
            }
            if vars.count > 1 { return .unbounded(vars, "Gather with indices that depend on the input is not Lipschitz") }
            guard let idx = ctx.constant(n.input(1)) else {
                // Indices computed at run time (from inputs that are not perturbed): an element is
                // copied at most once per index.
                let count = ctx.shape(n.input(1)).flatMap { Shapes.checkedProduct($0) }
                guard let count else { return .unbounded([x], "Gather with indices of unknown count computed at run time") }
                return count > 1 ? .lipschitz(x, Double(count).squareRoot(), "√(number of indices) = √\(count): indices computed at run time may repeat")
                                 : .lipschitz(x, 1)
            }
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
