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
        case "Expand", "Tile":
            // Every element is copied numel(out)/numel(in) times: L = √(that), exactly.
            guard n.input(0) == x else { return .unbounded(vars, "\(n.opType) whose shape argument depends on the input") }
            guard let m = Broadcast.gain(operand: ctx.shape(x), output: n.opType == "Expand" ? ctx.shape(n.outputs.first) : nil)
                    ?? tileGain(n, x, ctx) else {
                return .unbounded([x], "\(n.opType) whose output shape is not known (fix the input shape with --input-shape)")
            }
            return .lipschitz(x, m, m == 1 ? nil : "√(copies of each element)")
        case "Where":
            // y = cond ? a : b. With a condition that does not depend on the input each output
            // element comes from one operand: the two parts are disjoint, so
            // ‖δy‖² ≤ m_a‖δa‖² + m_b‖δb‖² (m = broadcast multiplicity): root-sum-square of √m·g.
            guard let cond = n.input(0) else { return nil }
            if ctx.isVariable(cond) {
                if let p = ctx.producer(cond), p.opType == "IsNaN" || p.opType == "IsInf" {
                    // Over real inputs the test is false: y = b.
                    guard let b = n.input(2) else { return nil }
                    let m = Broadcast.gain(operand: ctx.shape(b), output: ctx.shape(n.outputs.first)) ?? .infinity
                    return NodeRule(terms: ctx.isVariable(b) ? [.init(b, ModePair(m))] : [], reason: "\(p.opType) of a real value is false: the else operand")
                }
                return .discontinuity(vars, "Where with a condition that depends on the input switches operands")
            }
            let out = ctx.shape(n.outputs.first)
            var terms: [NodeRule.Term] = []
            for v in [n.input(1), n.input(2)].compactMap({ $0 }) where ctx.isVariable(v) {
                guard let m = Broadcast.gain(operand: ctx.shape(v), output: out) else {
                    return .unbounded(vars, "Where whose operand shapes are not known (fix the input shape with --input-shape)")
                }
                terms.append(.init(v, ModePair(m)))
            }
            return NodeRule(terms: terms, combine: .rootSumSquare, reason: "disjoint selection: root-sum-square of the operands' gains")
        case "GatherElements", "GatherND":
            guard n.input(0) == x else { return .discontinuity(vars, "\(n.opType) with indices that depend on the input") }
            let m = gatherMultiplicity(n, ctx)
            guard let m else { return .unbounded([x], "\(n.opType) with indices of unknown shape") }
            return .lipschitz(x, Double(m).squareRoot(), m > 1 ? "√(max copies of one element) = √\(m)" : nil)
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

extension LipschitzTable {
    /// Tile: each element is copied Π repeats times.
    static func tileGain(_ n: Node, _ x: String, _ ctx: GraphContext) -> Double? {
        guard n.opType == "Tile", let r = ctx.constant(n.input(1))?.int64s(), r.allSatisfy({ $0 >= 0 }) else { return nil }
        return r.reduce(1.0) { $0 * Double($1) }.squareRoot()
    }

    /// The most outputs of a GatherElements/GatherND that read one element: counted from
    /// constant indices; for indices computed at run time (from inputs that are not perturbed)
    /// the worst case, every index the same (the number of index entries along the gathered
    /// axis, resp. of index tuples).
    static func gatherMultiplicity(_ n: Node, _ ctx: GraphContext) -> Int? {
        guard let data = ctx.shape(n.input(0)), let idxShape = ctx.shape(n.input(1)) ?? ctx.constant(n.input(1))?.dims else { return nil }
        let idx = ctx.constant(n.input(1))
        if n.opType == "GatherElements" {
            guard let axis = Shapes.axis(n.int("axis") ?? 0, rank: data.count), idxShape.count == data.count else { return nil }
            guard let idx else { return idxShape[axis] }
            // Element read by index position p: p with its axis coordinate replaced by idx[p].
            var counts: [Int: Int] = [:]
            let st = Shapes.strides(idxShape), ds = Shapes.strides(data)
            for p in 0..<idx.count {
                var rem = p, flat = 0
                for d in 0..<idxShape.count {
                    let c = rem / st[d]
                    rem -= c * st[d]
                    let coord = d == axis ? Int(clamping: idx.int64s()[p] < 0 ? idx.int64s()[p] + Int64(data[axis]) : idx.int64s()[p]) : c
                    flat += coord * ds[d]
                }
                counts[flat, default: 0] += 1
            }
            return counts.values.max() ?? 1
        }
        // GatherND: index tuples of the last axis select slices; batch_dims leading axes are shared.
        guard let last = idxShape.last else { return nil }
        let tuples = idxShape.dropLast().reduce(1, *)
        guard let idx else { return tuples }
        let b = n.int("batch_dims") ?? 0
        let perBatch = max(1, idxShape.prefix(b).reduce(1, *))
        let values = idx.int64s()
        var worst = 1
        let tuplesPerBatch = tuples / perBatch
        for batch in 0..<perBatch {
            var counts: [[Int64]: Int] = [:]
            for t in 0..<tuplesPerBatch {
                let start = (batch * tuplesPerBatch + t) * last
                counts[Array(values[start..<(start + last)]), default: 0] += 1
            }
            worst = max(worst, counts.values.max() ?? 1)
        }
        return worst
    }
}
