import ONNX

/// Weight layers of quantized ops (DESIGN.md §1.7 "Quantized ops"): each op approximates a
/// real-valued map; its weight layer is that map's linear part, with the *dequantized* weight
/// W = w_s ⊙ (w_q − w_zp) (per tensor or per output channel) and a constant `scale`. Notation:
/// x = x_s·(x_q − x_zp), y = y_s·(y_q − y_zp), rounding removed (Eq. 8 counts it):
///
/// - **QLinearConv**(x_q, x_s, x_zp, w_q, w_s, w_zp, y_s, y_zp, B): y_q = (conv(x, W) + B)/y_s + y_zp
///   = (x_s/y_s)·conv(x_q − x_zp, W) + const, so on the integer tensors L = (x_s/y_s)·σ(W): a
///   conv layer with the dequantized W and `scale` = x_s/y_s. With the QuantizeLinear (1/x_s)
///   before and the DequantizeLinear (y_s) after, the chain telescopes to σ(W), the float layer's.
/// - **QLinearMatMul**(a, a_s, a_zp, b, b_s, b_zp, y_s, y_zp): the same with either operand the
///   constant weight; per-row (a) or per-column (b) scales of the variable operand scale rows or
///   columns of the product, so `scale` = max_i |s_i/y_s,i| (``QuantizedOperands/ratio(_:_:)``).
/// - **QGemm** (com.microsoft; A, a_s, a_zp, B, b_s, b_zp, C, y_s, y_zp; alpha, transA, transB):
///   Y = alpha·A·B + C (C int32 with scale alpha·a_s·b_s, a constant), quantized by y_s when
///   given: `scale` = |alpha|·a_s/y_s (float output: |alpha|·a_s); B per column of the logical
///   K × N matrix (axis 0 of the stored B when transB = 1). σ(B) = σ(Bᵀ), so no copy.
/// - **DynamicQuantizeMatMul** (com.microsoft; A, B, b_s, b_zp, bias): A is quantized inside the
///   op (its rounding is the layer's input rounding point), Y ≈ A·W + bias.
/// - **MatMulIntegerToFloat** (com.microsoft; A_q, B, a_s, b_s, a_zp, b_zp, bias):
///   Y = a_s·(A_q − a_zp)·W + bias: `scale` |a_s| (a per-column a_s of A scales W's rows). When
///   A_q comes from a DynamicQuantizeLinear it is the fused dynamic layer (``QuantizedGraph``).
/// - **MatMulInteger / ConvInteger** on a tensor that is not dynamically quantized (a static
///   QuantizeLinear): the exact integer map (x_q − x_zp) ⋆ (w_q − w_zp), weight w_q − w_zp; the
///   Cast and the Mul by the constant scales after it are ordinary layers.
/// - **Dynamic-quantization chains** (``QuantizedGraph/DynamicLayer``): one layer from x, the
///   DynamicQuantizeLinear's input, weight c ⊙ (w_q − w_zp) with c the constant rescale factor.
/// - **QLinearMul** (com.microsoft) by a constant B: C = (a_s·b_s/c_s)·(A − a_zp)(B − b_zp), a
///   diagonal scaling by s = (a_s/c_s)·b_s(B − b_zp): L = the largest fiber norm of s
///   (``Broadcast/fiberNorm(variable:weights:weightShape:)``).
///
/// Each op's inconsistent operands (a scale that is not a constant, zero, or of a length that
/// fits no axis) give an `unbounded` rule with the reason, through ``resolve(_:index:ctx:)``.
enum QuantizedLayers {
    enum Outcome {
        case layer(WeightLayer)
        case rule(NodeRule)
        case notHandled
    }

    static let weightOps: Set<String> = [
        "QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger", "QGemm", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
        "QLinearMul",
    ]

    /// What `n` is: a weight layer, a rule (absorbed, unmatched, or an inconsistent operand), or
    /// not a quantized weight op.
    static func resolve(_ n: Node, index: Int, ctx: GraphContext) -> Outcome {
        let vars = ctx.variableInputs(n)
        if let r = ctx.quantized.absorbed[index] { return .rule(NodeRule(terms: [], reason: r)) }
        if let r = ctx.quantized.unmatched[index] { return .rule(.unbounded(vars, r)) }
        if let d = ctx.quantized.dynamicLayers[index] { return dynamic(n, d, index: index, ctx: ctx) }
        guard QuantizedOps.isStandardOrContrib(n), weightOps.contains(n.opType) else { return .notHandled }
        if n.opType == "QLinearMul" {
            guard n.domain == "com.microsoft", vars.count == 1 else { return .notHandled }
        } else if n.domain == "com.microsoft" ? !QuantizedOps.contrib.contains(n.opType) : !QuantizedOps.standard.contains(n.opType) {
            return .notHandled
        }
        do throws(QuantizedIssue) {
            return .layer(try build(n, vars, index: index, ctx: ctx))
        } catch {
            return .rule(.unbounded(vars, "\(n.opType) \(error.text)"))
        }
    }

    private static func make(_ n: Node, index: Int, _ x: String, _ w: Tensor, _ view: WeightLayer.View) -> WeightLayer {
        WeightLayer(nodeIndex: index, node: n.name, op: n.opType, input: x, weight: w, view: view)
    }

    /// The variable operand at `position`, required to be the only one.
    private static func single(_ n: Node, _ vars: [String], at positions: [Int]) throws(QuantizedIssue) -> (String, Int) {
        for p in positions { if let x = n.input(p), vars == [x] { return (x, p) } }
        if vars.count > 1 {
            throw QuantizedIssue("with several operands that depend on the input (\(vars.joined(separator: ", "))): a product, or quantization parameters computed from the data; no global Lipschitz bound")
        }
        throw QuantizedIssue("whose input-dependent operand '\(vars.first ?? "")' is not a data operand")
    }

    static func build(_ n: Node, _ vars: [String], index: Int, ctx: GraphContext) throws(QuantizedIssue) -> WeightLayer {
        switch n.opType {
        case "QLinearConv":
            let (x, _) = try single(n, vars, at: [0])
            let w = try QuantizedOperands.constant(n, 3, "weight", ctx)
            guard w.dims.count >= 3 else { throw QuantizedIssue("whose weight '\(w.name)' has rank \(w.dims.count)") }
            let ws = try QuantizedOperands.scale(n, 4, "weight scale", ctx)
            let wz = try QuantizedOperands.optional(n, 5, "weight zero point", ctx)
            let xs = try QuantizedOperands.scale(n, 1, "input scale", ctx)
            let ys = try QuantizedOperands.scale(n, 6, "output scale", ctx)
            let wd = try QuantizedOperands.dequantize(w, zeroPoint: wz, zeroPointAxis: 0, factors: [.init(ws, axis: 0, role: "weight scale")])
            guard var l = WeightLayers.conv(n, x, wd, ctx) else { throw QuantizedIssue("whose weight \(w.dims) does not divide into \(n.int("group") ?? 1) groups") }
            l.nodeIndex = index
            l.scale = QuantizedOperands.ratio(xs, ys)
            return l
        case "QLinearMatMul":
            let (x, p) = try single(n, vars, at: [0, 3])
            let c = p == 0 ? 3 : 0  // the constant operand, its scale at c + 1, zero point c + 2
            let w = try QuantizedOperands.constant(n, c, "weight", ctx)
            let ws = try QuantizedOperands.scale(n, c + 1, "weight scale", ctx)
            let wz = try QuantizedOperands.optional(n, c + 2, "weight zero point", ctx)
            let xs = try QuantizedOperands.scale(n, p + 1, "input scale", ctx)
            let ys = try QuantizedOperands.scale(n, 6, "output scale", ctx)
            // b per column (last axis), a per row (second to last).
            let axis = p == 0 ? -1 : -2
            let wd = try QuantizedOperands.dequantize(w, zeroPoint: wz, zeroPointAxis: axis, factors: [.init(ws, axis: axis, role: "weight scale")])
            var l = make(n, index: index, x, wd, QuantizedOperands.matMulView(wd, variableOnLeft: p == 0))
            l.scale = QuantizedOperands.ratio(xs, ys)
            return l
        case "QGemm":
            let (x, p) = try single(n, vars, at: [0, 3])
            if let cIn = n.input(6), ctx.isVariable(cIn) { throw QuantizedIssue("with a C operand '\(cIn)' that depends on the input") }
            let c = p == 0 ? 3 : 0
            let w = try QuantizedOperands.constant(n, c, "weight", ctx)
            guard w.dims.count == 2 else { throw QuantizedIssue("whose weight '\(w.name)' has rank \(w.dims.count) (QGemm takes matrices)") }
            let ws = try QuantizedOperands.scale(n, c + 1, "weight scale", ctx)
            let wz = try QuantizedOperands.optional(n, c + 2, "weight zero point", ctx)
            let xs = try QuantizedOperands.scale(n, p + 1, "input scale", ctx)
            // B per column of the logical K × N matrix; A per tensor.
            let axis = p == 0 ? (n.int("transB") == 1 ? 0 : 1) : 0
            let wd = try QuantizedOperands.dequantize(w, zeroPoint: wz, zeroPointAxis: axis, factors: [.init(ws, axis: axis, role: "weight scale")])
            var l = make(n, index: index, x, wd, .matrix(rows: wd.dims[0], cols: wd.dims[1], blocks: 1))
            let alpha = abs(Double(n.float("alpha") ?? 1))
            if n.input(7) != nil {
                let ys = try QuantizedOperands.scale(n, 7, "output scale", ctx)
                l.scale = alpha * QuantizedOperands.ratio(xs, ys)
            } else {
                l.scale = alpha * xs.doubles().reduce(0) { max($0, abs($1)) }
            }
            return l
        case "DynamicQuantizeMatMul":
            let (x, _) = try single(n, vars, at: [0])
            let w = try QuantizedOperands.constant(n, 1, "weight", ctx)
            let ws = try QuantizedOperands.scale(n, 2, "weight scale", ctx)
            let wz = try QuantizedOperands.optional(n, 3, "weight zero point", ctx)
            let wd = try QuantizedOperands.dequantize(w, zeroPoint: wz, zeroPointAxis: -1, factors: [.init(ws, axis: -1, role: "weight scale")])
            return make(n, index: index, x, wd, QuantizedOperands.matMulView(wd, variableOnLeft: true))
        case "MatMulIntegerToFloat":
            let (x, _) = try single(n, vars, at: [0])
            let w = try QuantizedOperands.constant(n, 1, "weight", ctx)
            let xs = try QuantizedOperands.scale(n, 2, "input scale", ctx)
            let ws = try QuantizedOperands.scale(n, 3, "weight scale", ctx)
            _ = try QuantizedOperands.optional(n, 4, "input zero point", ctx)
            let wz = try QuantizedOperands.optional(n, 5, "weight zero point", ctx)
            // a_s per column of A (K values) scales the rows of W: fold it in; per tensor: `scale`.
            var factors: [QuantizedOperands.Factor] = [.init(ws, axis: -1, role: "weight scale")]
            if xs.count > 1 { factors.append(.init(xs, axis: -2, role: "input scale")) }
            let wd = try QuantizedOperands.dequantize(w, zeroPoint: wz, zeroPointAxis: -1, factors: factors)
            var l = make(n, index: index, x, wd, QuantizedOperands.matMulView(wd, variableOnLeft: true))
            if xs.count == 1 { l.scale = abs(xs.double(at: 0)) }
            return l
        case "MatMulInteger", "ConvInteger":
            let (x, _) = try single(n, vars, at: [0])
            let w = try QuantizedOperands.constant(n, 1, "weight", ctx)
            _ = try QuantizedOperands.optional(n, 2, "input zero point", ctx)
            let wz = try QuantizedOperands.optional(n, 3, "weight zero point", ctx)
            let conv = n.opType == "ConvInteger"
            let wd = try QuantizedOperands.dequantize(w, zeroPoint: wz, zeroPointAxis: conv ? 0 : -1, factors: [])
            if conv {
                guard w.dims.count >= 3, var l = WeightLayers.conv(n, x, wd, ctx) else { throw QuantizedIssue("whose weight \(w.dims) is not a convolution kernel") }
                l.nodeIndex = index
                return l
            }
            return make(n, index: index, x, wd, QuantizedOperands.matMulView(wd, variableOnLeft: true))
        case "QLinearMul":
            let (x, p) = try single(n, vars, at: [0, 3])
            let c = p == 0 ? 3 : 0
            let b = try QuantizedOperands.constant(n, c, "constant operand", ctx)
            let bs = try QuantizedOperands.scale(n, c + 1, "constant operand's scale", ctx)
            let bz = try QuantizedOperands.optional(n, c + 2, "constant operand's zero point", ctx)
            let xs = try QuantizedOperands.scale(n, p + 1, "input scale", ctx)
            let ys = try QuantizedOperands.scale(n, 6, "output scale", ctx)
            let bd = try QuantizedOperands.dequantize(b, zeroPoint: bz, zeroPointAxis: 0, factors: [.init(bs, axis: 0, role: "scale")])
            let r = QuantizedOperands.ratio(xs, ys)
            let s = bd.doubles().map { $0 * r }
            let gain = Broadcast.fiberNorm(variable: ctx.shape(x), weights: s, weightShape: bd.dims)
            return make(n, index: index, x, bd, .diagonal(s, gain: gain))
        default:
            throw QuantizedIssue("is not a quantized weight op")
        }
    }

    /// A dynamic-quantization chain as one layer from x (see ``QuantizedGraph/DynamicLayer``).
    static func dynamic(_ n: Node, _ d: QuantizedGraph.DynamicLayer, index: Int, ctx: GraphContext) -> Outcome {
        let nodes = ctx.graph.graph.nodes
        let op = nodes[d.integerOp]
        let chain = d.path.joined(separator: " → ")
        let x = d.input
        func fail(_ e: String) -> Outcome { .rule(.unbounded(ctx.variableInputs(n), "dynamic-quantized layer \(chain) \(e)")) }
        switch d.kind {
        case .dequantize:
            let c = d.factor.reduce(0) { max($0, abs($1)) }
            return .rule(.lipschitz(x, c, "x ↦ s·c·(x/s): the dynamic quantizer '\(nodes[d.quantizer].name)' undone, max|c| (rounding counted in Eq. 8)"))
        case .matMulInteger, .convInteger, .matMulIntegerToFloat:
            let conv = d.kind == .convInteger
            guard let w = ctx.constant(op.input(1)) else { return fail("whose weight is not a constant") }
            let zpIndex = d.kind == .matMulIntegerToFloat ? 5 : 3
            let wz = ctx.constant(op.input(zpIndex))
            let axis = conv ? 0 : -1
            let factor = QuantizedOperands.Factor(values: d.factor, axis: axis, role: "rescale factor", name: "\(n.name)")
            do throws(QuantizedIssue) {
                let wd = try QuantizedOperands.dequantize(w, zeroPoint: wz, zeroPointAxis: axis, factors: [factor])
                if conv {
                    guard var l = WeightLayers.conv(op, x, wd, ctx) else { return fail("whose weight \(w.dims) is not a convolution kernel") }
                    l.nodeIndex = index
                    l.node = n.name
                    return .layer(l)
                }
                return .layer(WeightLayer(nodeIndex: index, node: n.name, op: op.opType, input: x, weight: wd,
                                          view: QuantizedOperands.matMulView(wd, variableOnLeft: true)))
            } catch {
                return fail(error.text)
            }
        }
    }
}

extension WeightLayers {
    /// The hook in ``layer(_:index:ctx:)``: nil when `n` is not a quantized op (the float
    /// layers apply); `.some(layer)` for a quantized weight layer; `.some(nil)` when the node is
    /// handled as a rule (absorbed into a dynamic layer, unmatched, inconsistent operands), so
    /// that no float layer (a Mul by a constant scale) is made of it.
    static func quantizedLayer(_ n: Node, index: Int, ctx: GraphContext) -> WeightLayer?? {
        switch QuantizedLayers.resolve(n, index: index, ctx: ctx) {
        case let .layer(l): return .some(l)
        case .rule: return .some(nil)
        case .notHandled: return nil
        }
    }
}
