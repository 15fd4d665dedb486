import Foundation
import ONNX

/// Where positive per-channel scalings D may be inserted in a graph without changing the
/// function it computes (DESIGN.md §1.9), and how each weight layer's matrix sees them.
///
/// Every analysed tensor t gets a diagonal D_t (one positive value per channel, ``ChannelMap``);
/// the rescaled network computes t̃ = D_t·t. Each node f becomes f̃ = D_out ∘ f ∘ D_in⁻¹, so the
/// rescaled network computes exactly the original function when D = I at the perturbation
/// entries and at the analysed output — which this walk enforces (`pin`). Node by node:
/// - linear weight layers (Conv, Gemm, MatMul with a 2-D weight): W̃ = D_out·W·D_in⁻¹ — a row
///   scaling by the output channels, a column scaling by the input channels (``ScaledMatrix``);
///   for a convolution the same scaling of the kernel's output and input channels, so
///   ‖D_out·K·D_in⁻¹‖ is the norm of the convolution with the scaled kernel;
/// - diagonal layers (BatchNormalization, Mul/Div by a per-channel or scalar constant):
///   s̃_c = d_out,c·s_c/d_in,c, Lipschitz constant max_c |s̃_c| (``ScaledDiagonal``);
/// - maps that commute with positive per-channel scalings keep their rule with D_out = D_in:
///   ReLU, LeakyReLU, PRelu (max(x,0) + a·min(x,0) is positively homogeneous per element),
///   MaxPool/GlobalMaxPool (max of positive multiples of one channel's values is the multiple
///   of the max), AveragePool/GlobalAveragePool (linear within a channel), Identity, Dropout,
///   Add/Sub of a constant (D(D⁻¹x + b) = x + D·b: same gain, a constant moved);
/// - Add/Sub/Sum of variables: one D for every operand and the output (D·a + D·b = D(a + b));
/// - Concat along the channel axis: D_out = the concatenation of the parts' D (the map is
///   unchanged); along another axis: one D for every part;
/// - Flatten/Reshape to (N, K), Transpose: the channel follows its elements (``ChannelMap``);
/// - every other node: D = I on the inputs its rule reads and on its outputs.
/// So the rescaled network is the original function and its node-wise gains are valid rule
/// gains of the rescaled nodes: Eq. 7 over them (the same DAG propagation) bounds the
/// original network's Lipschitz constant, for every positive D.
struct ChannelScaling {
    /// A weight matrix block-structured as in ``WeightLayer/View/matrix``; entry (b, r, c) is
    /// scaled by exp(rowSign·ld[rowVars[b·rows + r]] + colSign·ld[colVars[b·cols + c]]).
    struct ScaledMatrix {
        var layer: Int
        var rows: Int, cols: Int, blocks: Int
        var rowVars: [Int], rowSign: Double
        var colVars: [Int], colSign: Double
    }

    /// A diagonal layer: s̃_c = s_c·exp(ld[outVars[c]] − ld[inVars[c]]).
    struct ScaledDiagonal {
        var layer: Int
        var s: [Double]
        var inVars: [Int], outVars: [Int]
    }

    var variables = ScalingVariables()
    var matrices: [ScaledMatrix] = []
    var diagonals: [ScaledDiagonal] = []
    /// Soft ties of the diagonal layers (channels with s ≠ 0), joined after the hard constraints.
    var tiesMade = 0
    /// The output variable of the last diagonal layer of each tie group (the fold point).
    var foldReferences: [Int] = []

    private var maps: [String: ChannelMap] = [:]

    init(plan: SensitivityAnalysis.Plan) {
        let ctx = plan.context
        var layerIndex = 0
        for p in plan.nodes {
            switch p.role {
            case let .weight(l):
                visitWeight(l, index: layerIndex, ctx)
                layerIndex += 1
            case let .rule(r):
                visitRule(p.node, r, ctx)
            }
        }
        pin(plan.output.tensor)
        // Soft ties: a diagonal layer's output channel = its input channel − log|s|.
        for d in diagonals {
            for c in d.s.indices where d.s[c] != 0 && d.s[c].isFinite {
                if variables.join(d.inVars[c], d.outVars[c], delta: -Foundation.log(abs(d.s[c]))) { tiesMade += 1 }
            }
        }
        foldReferences = diagonals.reversed().flatMap(\.outVars)
    }

    // MARK: Walk

    private mutating func pin(_ t: String) {
        if let m = maps[t] { variables.pin(m.vars) }
        maps[t] = nil
    }

    private func rank(_ t: String, _ ctx: GraphContext) -> Int? { ctx.shape(t)?.count }

    private mutating func fresh(_ t: String, channels: Int) {
        maps[t] = ChannelMap(vars: variables.fresh(channels), axis: 1, inner: nil)
    }

    /// The channel map of a layout tensor (rank ≥ 2, channels along axis 1, not flattened).
    private func channelMap(_ t: String, channels: Int, _ ctx: GraphContext) -> ChannelMap? {
        guard let m = maps[t], m.inner == nil, m.axis == 1, m.channels == channels, let r = rank(t, ctx), r >= 2 else { return nil }
        return m
    }

    /// The variables of a layout tensor's channels: its map's, or the identity's when it is
    /// pinned or its map does not fit (which then pins it).
    private mutating func layoutVars(_ t: String, channels: Int, _ ctx: GraphContext) -> [Int] {
        if let m = channelMap(t, channels: channels, ctx) { return m.vars }
        pin(t)
        return Array(repeating: ScalingVariables.one, count: channels)
    }

    private mutating func visitWeight(_ l: WeightLayer, index: Int, _ ctx: GraphContext) {
        let n = ctx.graph.graph.nodes[l.nodeIndex]
        guard let out = n.outputs.first, !out.isEmpty, l.extraTerms.isEmpty, let outShape = ctx.shape(out),
              let inShape = ctx.shape(l.input) else { return pinLayer(l, n) }
        let d = l.weight.dims
        switch (n.opType, l.view) {
        case let ("Conv", .matrix(rows, cols, blocks)):
            // (M, C/g, k…): g blocks of (M/g) × (C/g·Πk); column j of block b reads channel b·C/g + j / Πk.
            let g = blocks, kernel = d[2...].reduce(1, *), cPer = d[1]
            guard outShape.count == d.count, inShape.count == d.count, outShape[1] == d[0], inShape[1] == cPer * g else { return pinLayer(l, n) }
            let inVars = layoutVars(l.input, channels: cPer * g, ctx)
            fresh(out, channels: d[0])
            guard let om = maps[out] else { return }
            let colVars = (0..<(g * cols)).map { i in inVars[(i / cols) * cPer + (i % cols) / kernel] }
            matrices.append(ScaledMatrix(layer: index, rows: rows, cols: cols, blocks: g, rowVars: om.vars, rowSign: 1,
                                         colVars: colVars, colSign: -1))
        case let ("Gemm", .matrix(rows, cols, 1)), let ("MatMul", .matrix(rows, cols, 1)):
            // x·W (x the first operand, not transposed, rank 2): features of x are rows of the
            // (K, N) weight, or its columns when Gemm's transB holds it as (N, K).
            guard d.count == 2, n.input(0) == l.input, inShape.count == 2, outShape.count == 2, n.int("transA") ?? 0 == 0
            else { return pinLayer(l, n) }
            let transB = n.opType == "Gemm" && (n.int("transB") ?? 0) != 0
            let k = transB ? cols : rows, nOut = transB ? rows : cols
            guard k == inShape[1], nOut == outShape[1] else { return pinLayer(l, n) }
            if let m = maps[l.input], !(m.axis == 1 && (m.inner != nil ? k % (m.inner ?? 1) == 0 && (k / (m.inner ?? 1)) % m.channels == 0 : m.channels == k)) {
                pin(l.input)
            }
            let inVars = maps[l.input].map { m in (0..<k).map { m.featureVar($0) } } ?? Array(repeating: ScalingVariables.one, count: k)
            fresh(out, channels: nOut)
            guard let om = maps[out] else { return }
            matrices.append(transB
                ? ScaledMatrix(layer: index, rows: rows, cols: cols, blocks: 1, rowVars: om.vars, rowSign: 1, colVars: inVars, colSign: -1)
                : ScaledMatrix(layer: index, rows: rows, cols: cols, blocks: 1, rowVars: inVars, rowSign: -1, colVars: om.vars, colSign: 1))
        case let (_, .diagonal(s, _)):
            // One scale per channel (BatchNormalization; Mul/Div by a scalar or a (C,1…) constant).
            guard inShape == outShape, inShape.count >= 2 else { return pinLayer(l, n) }
            let c = inShape[1]
            let perChannel: [Double]
            if s.count == 1 {
                perChannel = Array(repeating: s[0], count: c)
            } else if s.count == c, n.opType == "BatchNormalization" || Self.isChannelShape(l.weight.dims, rank: inShape.count, channels: c) {
                perChannel = s
            } else { return pinLayer(l, n) }
            let inVars = layoutVars(l.input, channels: c, ctx)
            fresh(out, channels: c)
            guard let om = maps[out] else { return }
            diagonals.append(ScaledDiagonal(layer: index, s: perChannel, inVars: inVars, outVars: om.vars))
        default:
            pinLayer(l, n)
        }
    }

    /// A constant shape that broadcasts one value per channel of a rank-r NC… tensor:
    /// (C, 1, …, 1) with r − 1 dims, or (1, C, 1, …) with r dims.
    static func isChannelShape(_ dims: [Int], rank r: Int, channels c: Int) -> Bool {
        if dims.count == r - 1 { return dims.first == c && dims.dropFirst().allSatisfy { $0 == 1 } }
        if dims.count == r { return dims[0] == 1 && dims[1] == c && dims.dropFirst(2).allSatisfy { $0 == 1 } }
        return r == 2 && dims == [c]
    }

    private mutating func pinLayer(_ l: WeightLayer, _ n: Node) {
        pin(l.input)
        for t in l.extraTerms { pin(t.input) }
        for o in n.outputs { maps[o] = nil }
    }

    private static let commuting: Set<String> = ["Relu", "LeakyRelu", "PRelu", "MaxPool", "AveragePool", "GlobalAveragePool",
                                                 "GlobalMaxPool", "Identity", "Dropout"]

    private mutating func visitRule(_ n: Node, _ r: NodeRule, _ ctx: GraphContext) {
        let termInputs = r.terms.map(\.input) + (r.outputTerms ?? []).flatMap { $0.map(\.input) }
        let vars = ctx.variableInputs(n)
        let out = n.outputs.first ?? ""
        func fallback() {
            for t in termInputs + vars { pin(t) }
            for o in n.outputs { maps[o] = nil }
        }
        // Only rules that read the node's own operands (no pattern absorbing other nodes).
        guard r.status == .ok, r.outputTerms == nil, Set(termInputs).isSubset(of: Set(n.inputs)), !out.isEmpty,
              let outShape = ctx.shape(out) else { return fallback() }
        let op = n.opType
        if Self.commuting.contains(op) || ((op == "Add" || op == "Sub") && vars.count == 1) {
            guard vars.count == 1, let x = vars.first, n.input(0) == x || op == "Add" || op == "Sub",
                  let xs = ctx.shape(x) else { return fallback() }
            // A pinned operand: the output is pinned too (D = I passes through).
            guard let m = maps[x] else { return fallback() }
            if op == "PRelu" && !ctx.isConstant(n.input(1) ?? "") { return fallback() }
            let elementwise = ["Relu", "LeakyRelu", "Identity", "Dropout", "Add", "Sub"].contains(op)
            if elementwise {
                guard xs == outShape else { return fallback() }
            } else {
                // Pools: NC… layout, same channel count, rank kept.
                guard m.inner == nil, m.axis == 1, xs.count == outShape.count, xs.count >= 3, xs[1] == outShape[1] else { return fallback() }
            }
            maps[out] = m
            return
        }
        switch op {
        case "Add", "Sub", "Sum":
            guard vars.count == n.inputs.filter({ !$0.isEmpty }).count, vars.count >= 2,
                  vars.allSatisfy({ ctx.shape($0) == outShape }),
                  let first = maps[vars[0]], vars.allSatisfy({ maps[$0].map { $0.channels == first.channels && $0.axis == first.axis && $0.inner == first.inner } ?? false })
            else {
                // One D on every operand, and some operand is pinned (or shapes differ): all pinned.
                return fallback()
            }
            for v in vars.dropFirst() { if let m = maps[v] { for (a, b) in zip(first.vars, m.vars) { variables.join(a, b) } } }
            maps[out] = first
        case "Concat":
            guard let axisRaw = n.int("axis"), vars.count == n.inputs.filter({ !$0.isEmpty }).count,
                  let axis = Shapes.axis(axisRaw, rank: outShape.count),
                  outShape.count >= 2, axis == 1 || maps[vars[0]] != nil else { return fallback() }
            if axis == 1 {
                // A pinned part contributes identity variables; every other part keeps its own.
                var all: [Int] = []
                for v in vars {
                    guard let vs = ctx.shape(v), vs.count == outShape.count else { return fallback() }
                    all += layoutVars(v, channels: vs[1], ctx)
                }
                guard all.count == outShape[1] else { return fallback() }
                maps[out] = ChannelMap(vars: all, axis: 1, inner: nil)
            } else {
                guard let first = maps[vars[0]], first.inner == nil,
                      vars.allSatisfy({ maps[$0].map { $0.inner == nil && $0.axis == first.axis } ?? false }) else { return fallback() }
                guard vars.allSatisfy({ maps[$0]?.channels == first.channels }) else { return fallback() }
                for v in vars.dropFirst() { if let m = maps[v] { for (a, b) in zip(first.vars, m.vars) { variables.join(a, b) } } }
                maps[out] = first
            }
        case "Flatten", "Reshape":
            guard vars.count == 1, let x = vars.first, n.input(0) == x, let m = maps[x], m.inner == nil,
                  let xs = ctx.shape(x), outShape.count == 2, xs.count >= 2, outShape[0] == xs[0],
                  outShape[1] == xs.dropFirst().reduce(1, *), op == "Reshape" || (n.int("axis") ?? 1) == 1 else { return fallback() }
            maps[out] = xs.count == 2 ? m : ChannelMap(vars: m.vars, axis: 1, inner: xs[(m.axis + 1)...].reduce(1, *))
        case "Transpose":
            guard vars.count == 1, let x = vars.first, var m = maps[x], m.inner == nil, let xs = ctx.shape(x) else { return fallback() }
            let perm = n.ints("perm") ?? Array((0..<xs.count).reversed())
            guard perm.count == xs.count, let a = perm.firstIndex(of: m.axis) else { return fallback() }
            m.axis = a
            maps[out] = m
        default:
            fallback()
        }
    }
}

