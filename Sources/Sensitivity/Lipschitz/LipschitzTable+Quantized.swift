import ONNX

/// Quantized ops that are not weight layers (DESIGN.md §1.7 "Quantized ops"). With
/// x = x_s·(x_q − x_zp) and y = y_s·(y_q − y_zp), a QLinear op computes
/// y_q = quantize(f(dequantize(x_q))), so with the rounding removed (Eq. 8 counts it) it is
/// y_q = f(x_s·(x_q − x_zp))/y_s + y_zp: on the integer tensors L = L_f·x_s/y_s, and the
/// chain QuantizeLinear (1/x_s) → … → DequantizeLinear (y_s) telescopes to the float L_f.
/// Saturation (clamping to the integer range) is 1-Lipschitz and only lowers the constant.
///
/// - QLinearSigmoid: ¼·x_s/y_s; QLinearLeakyRelu(α): max(1, |α|)·x_s/y_s; QLinearSoftmax:
///   ½·x_s/y_s (the float Softmax's ‖diag(p) − ppᵀ‖₂ ≤ ½).
/// - QLinearGlobalAveragePool over H·W: (1/√(H·W))·x_s/y_s (channels_last honoured);
///   QLinearAveragePool: the AveragePool constant √(c/K_min) times x_s/y_s.
/// - QLinearAdd: C = (a_s(A − a_zp) + b_s(B − b_zp))/c_s + c_zp, so each variable operand adds
///   a_s/c_s (resp. b_s/c_s) × √(broadcast multiplicity), as the float Add (``Broadcast``).
/// - QLinearMul of two variable tensors is a product: unbounded (one constant operand is a
///   diagonal weight layer, ``QuantizedLayers``).
/// - QLinearConcat: part k is rescaled by s_k/y_s: g(out) = √(Σ_k (s_k/y_s · g_k)²), since
///   ‖δy‖² = Σ_k (s_k/y_s)²‖δx_k‖².
/// - QuantizeLinear / DequantizeLinear (ai.onnx and com.microsoft; per tensor, per axis,
///   blocked): max 1/|s| resp. max |s| over the scales. A DequantizeLinear of a QuantizeLinear
///   with the same scales is the pair x ↦ s·(clamp(round(x/s) + z₁) − z₂): 1-Lipschitz in x once
///   the rounding is removed (any zero points: they shift by a constant), so its rule reads x
///   directly with gain 1 (the per-axis product max|s|·max 1/|s| would exceed 1).
/// - DynamicQuantizeLinear, MatMulInteger, ConvInteger, Cast and Mul inside a dynamic pattern:
///   absorbed (no terms) or, where the pattern does not match, unbounded with the reason
///   (``QuantizedGraph``). com.microsoft DynamicQuantizeLSTM is the LSTM rule on its dequantized weights
/// (``dynamicQuantizeLSTM(_:_:)``).
extension LipschitzTable {
    /// The hook at the top of ``rule(for:in:)``: a rule for a quantized op, or nil.
    static func quantized(_ n: Node, _ vars: [String], _ ctx: GraphContext) -> NodeRule? {
        guard let out = n.outputs.first(where: { !$0.isEmpty }), let index = ctx.graph.producer[out] else { return nil }
        switch QuantizedLayers.resolve(n, index: index, ctx: ctx) {
        case let .rule(r): return r
        case .layer: return .unbounded(vars, "\(n.opType) is a weight layer whose norm was not computed")
        case .notHandled: break
        }
        guard QuantizedOps.isStandardOrContrib(n), !vars.isEmpty else { return nil }
        let contrib = n.domain == "com.microsoft"
        func ratio(_ num: Int, _ den: Int) throws(QuantizedIssue) -> Double {
            QuantizedOperands.ratio(try QuantizedOperands.scale(n, num, "input scale", ctx), try QuantizedOperands.scale(n, den, "output scale", ctx))
        }
        // Standard-domain ops first; the QLinear element/pool/concat ops exist only in com.microsoft.
        switch n.opType {
        case "QuantizeLinear", "DequantizeLinear": break
        case "DynamicQuantizeLinear":
            guard !contrib else { return nil }
            return .unbounded(vars, "DynamicQuantizeLinear '\(n.name)' computes its scale from the input; its output is not a Lipschitz function of it")
        default:
            guard contrib else { return nil }
        }
        do throws(QuantizedIssue) {
            switch n.opType {
            case "QuantizeLinear", "DequantizeLinear":
                return try quantizeLinear(n, vars, ctx)
            case "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "QLinearGlobalAveragePool", "QLinearAveragePool":
                guard let x = n.input(0), vars == [x] else { throw QuantizedIssue("whose scale or zero point depends on the input") }
                let r = try ratio(1, 3)
                switch n.opType {
                case "QLinearSigmoid": return .lipschitz(x, 0.25 * r, "¼·x_s/y_s")
                case "QLinearLeakyRelu":
                    let a = Double(n.float("alpha") ?? 0.01)
                    return .lipschitz(x, max(1, abs(a)) * r, "max(1, |α|)·x_s/y_s, α = \(a)")
                case "QLinearSoftmax": return .lipschitz(x, 0.5 * r, "½·x_s/y_s")
                case "QLinearGlobalAveragePool":
                    guard let s = ctx.shape(x), s.count >= 3 else { return .lipschitz(x, r, "(1/√(H·W))·x_s/y_s ≤ x_s/y_s (shape unknown)") }
                    let hw = (n.int("channels_last") == 1 ? Array(s[1..<(s.count - 1)]) : Array(s[2...])).reduce(1, *)
                    return .lipschitz(x, r / Double(max(hw, 1)).squareRoot(), "(1/√(H·W))·x_s/y_s, H·W = \(hw)")
                default:
                    return averagePool(n, x, r, ctx)
                }
            case "QLinearAdd":
                return try qlinearAdd(n, vars, ctx)
            case "QLinearMul":
                return .unbounded(vars, "QLinearMul of two tensors that both depend on the input (a product) has no global Lipschitz bound")
            case "QLinearConcat":
                let ys = try QuantizedOperands.scale(n, 0, "output scale", ctx)
                var terms: [NodeRule.Term] = []
                for k in stride(from: 2, to: n.inputs.count, by: 3) {
                    guard let t = n.input(k), ctx.isVariable(t) else { continue }
                    terms.append(.init(t, ModePair(QuantizedOperands.ratio(try QuantizedOperands.scale(n, k + 1, "scale of part '\(t)'", ctx), ys))))
                }
                for k in 0..<n.inputs.count where k < 2 || k % 3 != 2 {
                    if let t = n.input(k), ctx.isVariable(t) { throw QuantizedIssue("whose scale or zero point '\(t)' depends on the input") }
                }
                return NodeRule(terms: terms, combine: .rootSumSquare, reason: "√Σ(s_k/y_s · g_k)²")
            case "DynamicQuantizeLSTM":
                return dynamicQuantizeLSTM(n, ctx)
            default:
                return nil
            }
        } catch {
            return .unbounded(vars, "\(n.opType) \(error.text)")
        }
    }

    /// QuantizeLinear / DequantizeLinear (see the type's description), with the scale and zero
    /// point checked against x's shape (per tensor, per axis, blocked).
    static func quantizeLinear(_ n: Node, _ vars: [String], _ ctx: GraphContext) throws(QuantizedIssue) -> NodeRule {
        guard let x = n.input(0), vars == [x] else { throw QuantizedIssue("with a scale or zero point that depends on the input") }
        let s = try QuantizedOperands.scale(n, 1, "scale", ctx)
        let z = try QuantizedOperands.optional(n, 2, "zero point", ctx)
        if let z, z.count != s.count { throw QuantizedIssue("whose zero point has \(z.count) values for \(s.count) scales") }
        let axis = n.int("axis") ?? 1
        let block = n.int("block_size") ?? 0
        if let shape = ctx.shape(x), s.count > 1 {
            if block > 0 {
                guard let a = Shapes.axis(axis, rank: shape.count), s.dims.count == shape.count,
                      s.dims.enumerated().allSatisfy({ $0.offset == a ? $0.element == (shape[a] + block - 1) / block : $0.element == shape[$0.offset] }) else {
                    throw QuantizedIssue("whose blocked scale \(s.dims) does not fit the input \(shape) with block_size \(block) on axis \(axis)")
                }
            } else {
                guard let a = Shapes.axis(axis, rank: shape.count), shape[a] == s.count else {
                    throw QuantizedIssue("whose per-axis scale of \(s.count) values does not fit axis \(axis) of the input \(shape)")
                }
            }
        }
        let values = s.doubles().map(abs)
        if n.opType == "QuantizeLinear" {
            // Read only by DequantizeLinears that undo it (pairs): they read x directly, so the
            // integer tensor's own gain is not needed (and no row is shown for it).
            if let out = n.outputs.first, let users = ctx.graph.consumers[out], !users.isEmpty,
               users.allSatisfy({ pairedQuantizer(ctx.graph.graph.nodes[$0], ctx) != nil }) {
                return NodeRule(terms: [], reason: "analysed with the DequantizeLinear that undoes it (a 1-Lipschitz pair)")
            }
            return .lipschitz(x, values.reduce(0) { max($0, 1 / $1) }, "max 1/|scale| (rounding counted in Eq. 8)")
        }
        if let qx = pairedQuantizer(n, ctx) {
            return .lipschitz(qx, 1, "QuantizeLinear→DequantizeLinear pair with the same scales: x ↦ s·(clamp(round(x/s) + z) − z), 1-Lipschitz without the rounding (counted in Eq. 8)")
        }
        return .lipschitz(x, values.max() ?? 0, "max |scale|")
    }

    /// For a DequantizeLinear `dq` of a QuantizeLinear with the same constant scales and layout
    /// (axis, block_size): the QuantizeLinear's input x (the pair is 1-Lipschitz in x).
    static func pairedQuantizer(_ dq: Node, _ ctx: GraphContext) -> String? {
        guard dq.opType == "DequantizeLinear", QuantizedOps.isStandardOrContrib(dq), let qOut = dq.input(0),
              ctx.variableInputs(dq) == [qOut], let s = ctx.constant(dq.input(1)),
              let q = ctx.producer(qOut), q.opType == "QuantizeLinear", QuantizedOps.isStandardOrContrib(q),
              let x = q.input(0), ctx.variableInputs(q) == [x], let qs = ctx.constant(q.input(1)),
              qs.dims == s.dims, s.count > 0, qs.doubles() == s.doubles(), !s.doubles().contains(where: { $0 == 0 || !$0.isFinite }),
              s.count == 1 || (q.int("axis") ?? 1) == (dq.int("axis") ?? 1),
              (q.int("block_size") ?? 0) == (dq.int("block_size") ?? 0) else { return nil }
        return x
    }

    /// QLinearAdd: a_s/c_s and b_s/c_s per variable operand, × √(broadcast multiplicity).
    static func qlinearAdd(_ n: Node, _ vars: [String], _ ctx: GraphContext) throws(QuantizedIssue) -> NodeRule {
        for k in [1, 2, 4, 5, 6, 7] {
            if let t = n.input(k), ctx.isVariable(t) { throw QuantizedIssue("whose scale or zero point '\(t)' depends on the input") }
        }
        let cs = try QuantizedOperands.scale(n, 6, "output scale", ctx)
        let a = n.input(0), b = n.input(3)
        var out = ctx.shape(n.outputs.first)
        if out == nil, let sa = ctx.shape(a), let sb = ctx.shape(b) { out = Shapes.broadcast(sa, sb) }
        var terms: [NodeRule.Term] = []
        for (operand, scaleIndex) in [(a, 1), (b, 4)] {
            guard let v = operand, ctx.isVariable(v) else { continue }
            let r = QuantizedOperands.ratio(try QuantizedOperands.scale(n, scaleIndex, "scale of '\(v)'", ctx), cs)
            guard let m = Broadcast.gain(operand: ctx.shape(v), output: out) else {
                throw QuantizedIssue("whose operand shapes are not known, so neither is how often a broadcast operand is copied (fix the input shape with --input-shape)")
            }
            terms.append(.init(v, ModePair(r * m)))
        }
        return NodeRule(terms: terms, reason: "s_in/s_out × √(broadcast multiplicity) per operand")
    }

    /// QLinearAveragePool: the float AveragePool constant (window geometry on the input shape
    /// when it is NCHW and known, else the closed form) times x_s/y_s.
    static func averagePool(_ n: Node, _ x: String, _ r: Double, _ ctx: GraphContext) -> NodeRule {
        var float = n
        float.opType = "AveragePool"
        float.domain = ""
        // channels_last: the NCHW geometry does not apply; an input name without a shape
        // selects the closed form (c from kernel/stride/dilation, K_min = 1 with padding).
        let probe = n.int("channels_last") == 1 ? "\u{0}channels_last:\(x)" : x
        float.inputs = [probe]
        // The loader validates window attributes of the standard pools only: check these as
        // AveragePool's (extents, strides, pads in range) before any window arithmetic.
        do {
            try NodeValidator.validate(float, rank: ctx.shape(x)?.count, weightRank: nil, path: ctx.path)
        } catch {
            return .unbounded([x], "QLinearAveragePool with invalid window attributes: \(error.errorDescription ?? "")")
        }
        guard let rule = pooling(float, probe, ctx), let l = rule.terms.first?.gain.matrix, rule.status == .ok else {
            return .unbounded([x], "QLinearAveragePool without kernel_shape")
        }
        return .lipschitz(x, l * r, "(\(rule.reason ?? "√(c/K_min)"))·x_s/y_s")
    }
}

extension LipschitzTable {
    /// com.microsoft DynamicQuantizeLSTM(X, W, R, B, sequence_lens, initial_h, initial_c, P,
    /// W_scale, W_zero_point, R_scale, R_zero_point): onnxruntime's LSTM with W (D, I, 4H) and
    /// R (D, H, 4H) stored as 8-bit integers, transposed, and X and h quantized dynamically
    /// before their products. With the rounding removed (Eq. 7's real map; the roundings are
    /// Eq. 8's, X being a rounding point) it is exactly the ONNX LSTM with
    /// W_onnx[d] = ((W_q[d] − z)·s)ᵀ and R_onnx[d] = ((R_q[d] − z)·s)ᵀ (s, z per direction or per
    /// column of 4H), so its constants are the LSTM rule's on those weights.
    static func dynamicQuantizeLSTM(_ n: Node, _ ctx: GraphContext) -> NodeRule {
        let vars = ctx.variableInputs(n)
        func dequantizedTransposed(_ value: Int, _ scale: Int, _ zero: Int, _ label: String) -> Result<Tensor, RecurrentError> {
            guard let qName = n.input(value), let q = ctx.constant(qName), q.dims.count == 3 else {
                return .failure(.unbounded("its \(label) is not a constant 3-D tensor"))
            }
            guard let sName = n.input(scale), let st = ctx.constant(sName) else { return .failure(.unbounded("the scale of its \(label) is not a constant")) }
            let (d, rows, cols) = (q.dims[0], q.dims[1], q.dims[2])
            let sv = st.doubles(), zv = n.input(zero).flatMap { ctx.constant($0) }?.doubles() ?? [0]
            guard sv.count == d || sv.count == d * cols, zv.count == 1 || zv.count == sv.count else {
                return .failure(.malformed("\(label) scale (\(sv.count)) or zero point (\(zv.count)) do not fit \(d) direction(s) of \(rows) × \(cols)"))
            }
            guard sv.allSatisfy({ $0.isFinite }) else { return .failure(.unbounded("the scale of its \(label) holds NaN or infinite values")) }
            let qv = q.doubles()
            var out = [Float](repeating: 0, count: qv.count)
            for k in 0..<d {
                for i in 0..<rows {
                    for j in 0..<cols {
                        let si = sv.count == d ? k : k * cols + j
                        let z = zv.count == 1 ? zv[0] : zv[si]
                        // Exact in float32 up to one rounding of the product (8-bit × float32 scale).
                        out[k * rows * cols + j * rows + i] = Float((qv[k * rows * cols + i * cols + j] - z) * sv[si])
                    }
                }
            }
            return .success(Tensor(name: "\(qName) (dequantized, transposed)", dims: [d, cols, rows], floats: out))
        }
        switch (dequantizedTransposed(1, 8, 9, "weight W"), dequantizedTransposed(2, 10, 11, "recurrence weight R")) {
        case let (.success(w), .success(r)):
            var lstm = n
            lstm.opType = "LSTM"
            lstm.domain = ""
            lstm.inputs = Array(n.inputs.prefix(8))
            while lstm.inputs.count < 3 { lstm.inputs.append("") }
            lstm.inputs[1] = w.name
            lstm.inputs[2] = r.name
            var rule = recurrent(lstm, ctx, constants: [w.name: w, r.name: r])
            rule.reason = "DynamicQuantizeLSTM as the LSTM on its dequantized weights" + (rule.reason.map { ": " + $0 } ?? "")
            return rule
        case let (.failure(e), _), let (_, .failure(e)):
            switch e {
            case let .unbounded(text): return .unbounded(vars, "DynamicQuantizeLSTM: \(text)")
            case let .malformed(text): return .unsupported(vars, "DynamicQuantizeLSTM: \(text)")
            }
        }
    }
}
