/// Output shapes of the quantized operators (QOperator: QLinearConv, QLinearMatMul and the
/// com.microsoft QLinear* ops, QGemm; dynamic quantization: DynamicQuantizeLinear,
/// MatMulInteger, ConvInteger, DynamicQuantizeMatMul, MatMulIntegerToFloat), from the
/// operator definitions (ONNX Operators.md; onnxruntime contrib_defs/quantization_defs.cc):
/// each is its float counterpart's shape with the scale and zero-point operands skipped.
///
/// The main inference pass (``ShapeInference``) leaves these outputs unknown, and with them
/// everything downstream; ``ModelGraph/shapesWithQuantizedOps()`` re-runs it with these rules,
/// for the analysis (broadcast multiplicities, conv geometry, pooling windows).
enum QuantizedShapes {
    static let ops: Set<String> = [
        "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger", "DynamicQuantizeLinear",
        "QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "QLinearConcat",
        "QLinearGlobalAveragePool", "QLinearAveragePool", "QGemm", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
        "DynamicQuantizeLSTM",
    ]

    static func handles(_ n: Node) -> Bool {
        guard n.domain.isEmpty || n.domain == "ai.onnx" || n.domain == "com.microsoft" else { return false }
        return ops.contains(n.opType)
    }

    /// The output shapes of `n` from its input shapes `ins` (nil where unknown or inconsistent).
    static func outputs(_ n: Node, _ ins: [[Int]?]) -> [[Int]?] {
        func input(_ i: Int) -> [Int]? { i < ins.count ? ins[i] : nil }
        switch n.opType {
        case "DynamicQuantizeLinear":
            return [input(0), [], []]
        case "DynamicQuantizeLSTM":
            // X [T, N, I]; R (D, H, 4H): Y [T, D, N, H], Y_h and Y_c [D, N, H].
            guard let x = input(0), x.count == 3 else { return [nil, nil, nil] }
            let d = n.string("direction") == "bidirectional" ? 2 : 1
            guard let h = n.int("hidden_size") ?? input(2).flatMap({ $0.count == 3 ? $0[1] : nil }) else { return [nil, nil, nil] }
            return [[x[0], d, x[1], h], [d, x[1], h], [d, x[1], h]]
        case "QLinearConv":
            return [conv(n, input(0), input(3))]
        case "ConvInteger":
            return [conv(n, input(0), input(1))]
        case "QLinearMatMul":
            return [matmul(input(0), input(3))]
        case "MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat":
            return [matmul(input(0), input(1))]
        case "QLinearAdd", "QLinearMul":
            guard let a = input(0), let b = input(3) else { return [nil] }
            return [Shapes.broadcast(a, b)]
        case "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax":
            return [input(0)]
        case "QLinearGlobalAveragePool":
            guard let x = input(0), x.count >= 3 else { return [nil] }
            return [n.int("channels_last") == 1 ? [x[0]] + Array(repeating: 1, count: x.count - 2) + [x[x.count - 1]]
                                                : [x[0], x[1]] + Array(repeating: 1, count: x.count - 2)]
        case "QLinearAveragePool":
            guard let x = input(0), x.count >= 3, let k = n.ints("kernel_shape"), k.count == x.count - 2 else { return [nil] }
            let last = n.int("channels_last") == 1
            let spatial = last ? Array(x[1..<(x.count - 1)]) : Array(x[2...])
            guard let geo = try? WindowGeometry.resolve(node: n, input: spatial, kernel: k, ceilMode: n.int("ceil_mode") == 1, path: "") else {
                return [nil]
            }
            return [last ? [x[0]] + geo.output + [x[x.count - 1]] : [x[0], x[1]] + geo.output]
        case "QLinearConcat":
            // inputs: Y_scale, Y_zero_point, then (tensor, scale, zero point) triples.
            let parts = stride(from: 2, to: ins.count, by: 3).map { input($0) }
            guard let first = parts.first ?? nil, let axis = n.int("axis"), let a = Shapes.axis(axis, rank: first.count) else { return [nil] }
            var out = first
            out[a] = 0
            for case let p? in parts {
                guard p.count == first.count, (0..<p.count).allSatisfy({ $0 == a || p[$0] == first[$0] }) else { return [nil] }
                out[a] += p[a]
            }
            return parts.contains { $0 == nil } ? [nil] : [out]
        case "QGemm":
            guard let a = input(0), let b = input(3), a.count == 2, b.count == 2 else { return [nil] }
            let ta = n.int("transA") == 1, tb = n.int("transB") == 1
            let (m, k1) = ta ? (a[1], a[0]) : (a[0], a[1])
            let (k2, nn) = tb ? (b[1], b[0]) : (b[0], b[1])
            return [k1 == k2 ? [m, nn] : nil]
        default:
            return Array(repeating: nil, count: n.outputs.count)
        }
    }

    /// Conv's output shape: [N, M] + the window geometry's output (nil when inconsistent).
    static func conv(_ n: Node, _ x: [Int]?, _ w: [Int]?) -> [Int]? {
        guard let x, let w, x.count >= 3, w.count == x.count else { return nil }
        let group = max(n.int("group") ?? 1, 1)
        guard x[1] == w[1] * group, w[0] % group == 0,
              let geo = try? WindowGeometry.resolve(node: n, input: Array(x[2...]), kernel: Array(w[2...]), path: "") else { return nil }
        return [x[0], w[0]] + geo.output
    }

    /// numpy.matmul's output shape (nil when the inner or batch dimensions do not agree).
    static func matmul(_ a: [Int]?, _ b: [Int]?) -> [Int]? {
        guard let a, let b, !a.isEmpty, !b.isEmpty else { return nil }
        let a2 = a.count == 1 ? [1] + a : a
        let b2 = b.count == 1 ? b + [1] : b
        guard a2[a2.count - 1] == b2[b2.count - 2],
              let batch = Shapes.broadcast(Array(a2.dropLast(2)), Array(b2.dropLast(2))) else { return nil }
        var s = batch + [a2[a2.count - 2], b2[b2.count - 1]]
        if a.count == 1 { s.remove(at: s.count - 2) }
        if b.count == 1 { s.removeLast() }
        return s
    }
}

extension ModelGraph {
    /// `shapes`, completed through the quantized operators and everything downstream of them:
    /// the inference pass runs again over the nodes whose outputs are still unknown, with
    /// ``QuantizedShapes`` for the quantized ops. Inconsistencies found only now leave the
    /// shape unknown (the main pass already validated what it could). Returns `shapes` itself
    /// when no quantized op lacks an output shape.
    public func shapesWithQuantizedOps() -> [String: [Int]] {
        let nodes = graph.nodes
        let missing = order.contains { idx in
            QuantizedShapes.handles(nodes[idx]) && nodes[idx].outputs.contains { !$0.isEmpty && shapes[$0] == nil }
        }
        guard missing else { return shapes }
        var inference = ShapeInference(path: path, shapes: shapes, dtypes: dtypes)
        for idx in order {
            let n = nodes[idx]
            guard n.outputs.contains(where: { !$0.isEmpty && inference.shapes[$0] == nil }) else { continue }
            if QuantizedShapes.handles(n) {
                let ins = n.inputs.map { $0.isEmpty ? nil : inference.shapes[$0] }
                for (o, s) in zip(n.outputs, QuantizedShapes.outputs(n, ins)) where !o.isEmpty && inference.shapes[o] == nil {
                    if let s, Shapes.isPlausible(s) { inference.shapes[o] = s }
                }
            } else {
                try? inference.visit(n, constants: constants)
            }
        }
        return inference.shapes
    }
}
