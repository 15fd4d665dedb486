import ONNX

/// Finds the chains of ``QuantizedGraph/DynamicLayer`` (see there for the algebra), one
/// DynamicQuantizeLinear at a time: every consumer of x_q is followed to the node where the
/// powers of the scale s cancel (``ScaleMonomial``); chains whose intermediate tensors are
/// used elsewhere are demoted until none is; the quantizer is absorbed when all its uses lie
/// in matched chains. Every failure is a one-line reason for the nodes involved.
struct DynamicPatternMatcher {
    let graph: ModelGraph
    let dependence: Dependence
    let shapes: [String: [Int]]
    var layers: [Int: QuantizedGraph.DynamicLayer] = [:]
    var absorbed: [Int: String] = [:]
    var unmatched: [Int: String] = [:]

    init(graph: ModelGraph, dependence: Dependence, shapes: [String: [Int]]) {
        self.graph = graph
        self.dependence = dependence
        self.shapes = shapes
    }

    var nodes: [Node] { graph.graph.nodes }

    func shape(_ t: String) -> [Int]? { graph.shapes[t] ?? shapes[t] }

    func consumers(_ t: String) -> [Int] { graph.consumers[t] ?? [] }

    /// One chain being followed: its nodes (absorbed unless the last), the output node.
    struct Chain {
        var start: Int
        var nodes: Set<Int> = []
        var output: Int?
        var layer: QuantizedGraph.DynamicLayer?
        var failure: String?
    }

    mutating func match(quantizer d: Int) {
        let dq = nodes[d]
        guard let x = dq.input(0), dependence.isDependent(x), let q = dq.outputs.first, !q.isEmpty else { return }
        let s = dq.outputs.count > 1 ? dq.outputs[1] : ""
        let z = dq.outputs.count > 2 ? dq.outputs[2] : ""
        var memo: [String: (ScaleMonomial, Set<Int>)?] = [:]
        var chains: [Chain] = []
        for c in consumers(q) {
            chains.append(follow(c, quantizer: d, x: x, q: q, s: s, z: z, memo: &memo))
        }
        // Chains whose absorbed nodes feed anything outside the successful chains would leave
        // that consumer reading a tensor whose gain is not tracked: demote them (fixpoint).
        let graphOutputs = Set(graph.graph.outputs.map(\.name))
        var changed = true
        while changed {
            changed = false
            let inside = chains.filter { $0.failure == nil }.reduce(into: Set<Int>()) { $0.formUnion($1.nodes) }
            let outputs = Set(chains.compactMap { $0.failure == nil ? $0.output : nil })
            for i in chains.indices where chains[i].failure == nil {
                for m in chains[i].nodes.sorted() where m != chains[i].output {
                    for o in nodes[m].outputs where !o.isEmpty {
                        if graphOutputs.contains(o) {
                            chains[i].failure = "its intermediate tensor '\(o)' is a graph output"
                        } else if let out = consumers(o).first(where: { !inside.contains($0) && !outputs.contains($0) }) {
                            chains[i].failure = "'\(o)' also feeds '\(nodes[out].name)' (\(nodes[out].opType)), outside the pattern"
                        }
                        if chains[i].failure != nil { break }
                    }
                    if chains[i].failure != nil { changed = true; break }
                }
            }
        }
        let ok = chains.filter { $0.failure == nil }
        let failed = chains.filter { $0.failure != nil }
        for c in ok {
            guard let out = c.output, let layer = c.layer else { continue }
            layers[out] = layer
            for m in c.nodes where m != out { absorbed[m] = "absorbed into the dynamic-quantized layer '\(nodes[out].name)' (\(layer.path.joined(separator: " → ")))" }
        }
        // The quantizer is absorbed when every use of its outputs lies in a matched chain.
        let allUses = [q, s, z].filter { !$0.isEmpty }.flatMap { consumers($0) }
        let inside = ok.reduce(into: Set<Int>()) { $0.formUnion($1.nodes) }.union(ok.compactMap(\.output))
        if failed.isEmpty, !ok.isEmpty, allUses.allSatisfy({ inside.contains($0) }), ![q, s, z].contains(where: { graphOutputs.contains($0) }) {
            absorbed[d] = "absorbed into the dynamic-quantized layer\(ok.count == 1 ? "" : "s") " +
                ok.compactMap { $0.output.map { "'\(nodes[$0].name)'" } }.joined(separator: ", ")
            return
        }
        let first = failed.first?.failure ?? (ok.isEmpty ? "its quantized output feeds no MatMulInteger/ConvInteger" : "its scale or zero point is used outside the MatMulInteger/ConvInteger chains")
        unmatched[d] = "DynamicQuantizeLinear '\(dq.name)' computes its scale and zero point from the input, so its output alone has no Lipschitz bound; Kappa analyses it together with the integer op that rescales it, but \(first)"
        for c in failed {
            let reason = "part of the dynamic quantization of '\(x)' by '\(dq.name)', which Kappa could not analyse as one layer: \(c.failure ?? "")"
            for m in c.nodes.union([c.start]) where layers[m] == nil && absorbed[m] == nil { unmatched[m] = reason }
        }
    }

    /// Follows one consumer `c` of x_q to the node where the powers of s cancel.
    mutating func follow(_ c: Int, quantizer d: Int, x: String, q: String, s: String, z: String,
                         memo: inout [String: (ScaleMonomial, Set<Int>)?]) -> Chain {
        var chain = Chain(start: c)
        let n = nodes[c]
        func fail(_ m: String) -> Chain { var ch = chain; ch.failure = m; return ch }
        guard QuantizedOps.isStandardOrContrib(n), n.input(0) == q else {
            return fail("its quantized output '\(q)' feeds '\(n.name)' (\(n.opType)), which is not MatMulInteger, ConvInteger, MatMulIntegerToFloat or DequantizeLinear")
        }
        chain.nodes.insert(c)
        var path = [nodes[d].name, n.name]
        // The zero point subtracted from x_q must be the quantizer's own: otherwise the product
        // carries z ⋆ W_q · s, which depends on x through s.
        func checkZeroPoint(_ i: Int) -> String? {
            guard !z.isEmpty else { return nil }
            guard n.input(i) == z else {
                return "'\(n.name)' (\(n.opType)) does not subtract the quantizer's zero point '\(z)' from x_q (its input \(i) is '\(n.input(i) ?? "")'), so (x_q − z)·s ≠ x"
            }
            return nil
        }
        switch n.opType {
        case "MatMulInteger", "ConvInteger":
            if let e = checkZeroPoint(2) { return fail(e) }
            guard let w = graph.constants[n.input(1) ?? ""] else { return fail("the weight operand of '\(n.name)' (\(n.opType)) is not a constant") }
            if let wz = n.input(3), graph.constants[wz] == nil { return fail("the weight zero point '\(wz)' of '\(n.name)' is not a constant") }
            let conv = n.opType == "ConvInteger"
            guard w.dims.count >= (conv ? 3 : 1) else { return fail("the weight of '\(n.name)' has rank \(w.dims.count)") }
            // Walk forward from the int32 product: (x/s)⋆W_q carries s^(−1).
            var t = n.outputs.first ?? ""
            var factor = ScaleMonomial(values: [1], dims: [], power: -1)
            for _ in 0..<16 {
                let users = consumers(t)
                guard users.count == 1, let u = users.first else {
                    return fail(users.isEmpty ? "'\(t)' is not used" : "'\(t)' (carrying the factor s^\(factor.power)) is used by \(users.count) nodes; Kappa follows one Cast → Mul rescale")
                }
                let un = nodes[u]
                chain.nodes.insert(u)
                path.append(un.name)
                guard un.domain.isEmpty || un.domain == "ai.onnx", let out = un.outputs.first, !out.isEmpty else {
                    return fail("'\(t)' feeds '\(un.name)' (\(un.opType)), which is not a Cast, Mul, Div or Add of the rescale")
                }
                let other = un.inputs.first { !$0.isEmpty && $0 != t }
                switch un.opType {
                case "Cast":
                    // To FLOAT/DOUBLE or a 32/64-bit integer: exact on int32 products (a narrower
                    // type would saturate at a level that moves with s).
                    guard Self.exactCast(un) else {
                        return fail("'\(un.name)' casts the int32 product to a narrower type, which saturates")
                    }
                    t = out
                    continue
                case "Add", "Sub":
                    // An integer bias of the same power s^p: constant once multiplied by s^(−p).
                    guard let o = other, let (m, via) = monomial(o, s: s, memo: &memo), m.power == factor.power else {
                        return fail("'\(un.name)' (\(un.opType)) adds '\(other ?? "")', which is not a bias of the form b·s^\(factor.power)")
                    }
                    chain.nodes.formUnion(via)
                    t = out
                    continue
                case "Mul", "Div":
                    guard let o = other, un.opType == "Mul" || un.input(0) == t,
                          let (m, via) = monomial(o, s: s, memo: &memo),
                          let next = ScaleMonomial.combine(factor, m, divide: un.opType == "Div") else {
                        return fail("'\(un.name)' (\(un.opType)) rescales by '\(other ?? "")', which is not a constant times a power of the quantizer's scale")
                    }
                    chain.nodes.formUnion(via)
                    factor = next
                    t = out
                    if factor.power != 0 { continue }
                    let rank = conv ? w.dims.count : shape(out)?.count
                    let channels = conv ? w.dims[0] : (w.dims.count == 1 ? 1 : w.dims[w.dims.count - 1])
                    switch factor.perChannel(rank: rank, axis: 1, fromEnd: !conv, channels: channels) {
                    case let .failure(e): return fail("'\(un.name)': \(e.text)")
                    case let .success(f):
                        chain.output = u
                        chain.layer = .init(kind: conv ? .convInteger : .matMulInteger, quantizer: d, integerOp: c, input: x,
                                            factor: f, path: path)
                        return chain
                    }
                default:
                    return fail("'\(t)' feeds '\(un.name)' (\(un.opType)), which is not a Cast, Mul, Div or Add of the rescale")
                }
            }
            return fail("the rescale after '\(n.name)' is longer than 16 nodes")
        case "MatMulIntegerToFloat":
            if let e = checkZeroPoint(4) { return fail(e) }
            guard let w = graph.constants[n.input(1) ?? ""], !w.dims.isEmpty else { return fail("the B operand of '\(n.name)' is not a constant") }
            guard let a = n.input(2), let (ma, via) = monomial(a, s: s, memo: &memo), ma.power == 1 else {
                return fail("the a_scale of '\(n.name)' is not the quantizer's scale times a constant")
            }
            guard let bs = graph.constants[n.input(3) ?? ""], let mb = ScaleMonomial.constant(bs), let f = ScaleMonomial.combine(ma, mb, divide: false) else {
                return fail("the b_scale of '\(n.name)' is not a constant")
            }
            for i in [5, 6] { if let t = n.input(i), graph.constants[t] == nil { return fail("input \(i) '\(t)' of '\(n.name)' is not a constant") } }
            chain.nodes.formUnion(via)
            let channels = w.dims.count == 1 ? 1 : w.dims[w.dims.count - 1]
            switch f.perChannel(rank: shape(n.outputs.first ?? "")?.count, axis: 0, fromEnd: true, channels: channels) {
            case let .failure(e): return fail("'\(n.name)': \(e.text)")
            case let .success(v):
                chain.output = c
                chain.layer = .init(kind: .matMulIntegerToFloat, quantizer: d, integerOp: c, input: x, factor: v, path: path)
                return chain
            }
        case "DequantizeLinear":
            if let e = checkZeroPoint(2) { return fail(e) }
            guard let a = n.input(1), let (m, via) = monomial(a, s: s, memo: &memo), m.power == 1 else {
                return fail("'\(n.name)' dequantizes with a scale that is not the quantizer's scale times a constant")
            }
            chain.nodes.formUnion(via)
            chain.output = c
            chain.layer = .init(kind: .dequantize, quantizer: d, integerOp: c, input: x, factor: m.values, path: path)
            return chain
        default:
            return fail("its quantized output '\(q)' feeds '\(n.name)' (\(n.opType)), which is not MatMulInteger, ConvInteger, MatMulIntegerToFloat or DequantizeLinear")
        }
    }

    /// A Cast to FLOAT, DOUBLE, INT32 or INT64: no saturation of int32 products (FLOAT16 would
    /// overflow to ∞ above 65504, an 8-bit type would clamp).
    static func exactCast(_ n: Node) -> Bool {
        guard let to = n.int("to").flatMap({ DataType(rawValue: Int32(truncatingIfNeeded: $0)) }) else { return false }
        return [.float, .double, .int32, .int64].contains(to)
    }

    /// `t` as c·s^p, and the nodes that compute it from s (nil when `t` is not of that form).
    func monomial(_ t: String, s: String, memo: inout [String: (ScaleMonomial, Set<Int>)?], depth: Int = 0) -> (ScaleMonomial, Set<Int>)? {
        if let m = memo[t] { return m }
        let result = computeMonomial(t, s: s, memo: &memo, depth: depth)
        memo[t] = result
        return result
    }

    private func computeMonomial(_ t: String, s: String, memo: inout [String: (ScaleMonomial, Set<Int>)?], depth: Int) -> (ScaleMonomial, Set<Int>)? {
        if !s.isEmpty, t == s { return (.scale(), []) }
        if let c = graph.constants[t] { return ScaleMonomial.constant(c).map { ($0, []) } }
        guard depth < 24, dependence.isDependent(t), let p = graph.producer[t] else { return nil }
        let n = nodes[p]
        guard n.domain.isEmpty || n.domain == "ai.onnx", let x = n.input(0) else { return nil }
        func arg(_ name: String?) -> (ScaleMonomial, Set<Int>)? { name.flatMap { monomial($0, s: s, memo: &memo, depth: depth + 1) } }
        switch n.opType {
        case "Mul", "Div":
            guard let (a, va) = arg(x), let (b, vb) = arg(n.input(1)),
                  let m = ScaleMonomial.combine(a, b, divide: n.opType == "Div") else { return nil }
            return (m, va.union(vb).union([p]))
        case "Floor", "Ceil", "Round", "Cast", "Identity", "Neg":
            if n.opType == "Cast", !Self.exactCast(n) { return nil }
            guard let (first, va) = arg(x) else { return nil }
            var a = first
            if n.opType == "Neg" { a.values = a.values.map { -$0 } }
            return (a, va.union([p]))
        case "Reshape", "Unsqueeze", "Squeeze", "Flatten":
            guard let (first, va) = arg(x) else { return nil }
            var a = first
            var dims = shape(t)
            if n.opType == "Reshape", let target = graph.constants[n.input(1) ?? ""] {
                dims = Shapes.reshape(a.dims, to: target.int64s().map { Int(clamping: $0) }, allowZero: n.int("allowzero") == 1) ?? dims
            }
            guard let d = dims, Shapes.checkedProduct(d) == a.count else { return nil }
            a.dims = d
            return (a, va.union([p]))
        default:
            return nil
        }
    }
}
