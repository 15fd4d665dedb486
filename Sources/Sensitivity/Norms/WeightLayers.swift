import Foundation
import Linalg
import ONNX

/// Finds the weight layers of a graph (DESIGN.md §1.1). Constants come from
/// `ModelGraph.constants`, so initializers, Constant nodes, ConstantOfShape and folded
/// chains (Transpose, Cast, DequantizeLinear of integer weights …) all count.
public enum WeightLayers {
    /// The weight layer `n` is, or nil when `n` has no constant weight operand.
    public static func layer(_ n: Node, index: Int, ctx: GraphContext) -> WeightLayer? {
        if let quantized = quantizedLayer(n, index: index, ctx: ctx) { return quantized }  // WeightLayers+Quantized
        guard n.domain.isEmpty || n.domain == "ai.onnx" else { return nil }
        let vars = ctx.variableInputs(n)
        func make(_ x: String, _ w: Tensor, _ view: WeightLayer.View) -> WeightLayer {
            WeightLayer(nodeIndex: index, node: n.name, op: n.opType, input: x, weight: w, view: view)
        }
        switch n.opType {
        case "Conv", "ConvTranspose":
            guard let x = n.input(0), vars == [x], let w = ctx.constant(n.input(1)), w.dims.count >= 3 else { return nil }
            return conv(n, x, w, ctx).map { l in var l = l; l.nodeIndex = index; return l }
        case "Gemm":
            guard let a = n.input(0), let b = n.input(1) else { return nil }
            let aConst = ctx.constant(a), bConst = ctx.constant(b)
            let (x, w): (String, Tensor)
            if let bConst, aConst == nil { (x, w) = (a, bConst) } else if let aConst, bConst == nil { (x, w) = (b, aConst) } else { return nil }
            guard w.dims.count == 2 else { return nil }
            var l = make(x, w, .matrix(rows: w.dims[0], cols: w.dims[1], blocks: 1))
            l.scale = abs(Double(n.float("alpha") ?? 1))
            if let c = n.input(2), ctx.isVariable(c) {
                // C is broadcast to (M, N): × √(its multiplicity).
                let out = ctx.shape(n.outputs.first)
                let m = Broadcast.gain(operand: ctx.shape(c), output: out) ?? .infinity
                l.extraTerms = [.init(c, ModePair(abs(Double(n.float("beta") ?? 1)) * m))]
            }
            return l
        case "MatMul":
            guard vars.count == 1, let a = n.input(0), let b = n.input(1) else { return nil }
            let x = vars[0]
            guard let w = ctx.constant(x == a ? b : a), !w.dims.isEmpty else { return nil }
            let d = w.dims
            let rows: Int, cols: Int
            if d.count == 1 { (rows, cols) = x == a ? (d[0], 1) : (1, d[0]) } else { (rows, cols) = (d[d.count - 2], d[d.count - 1]) }
            let blocks = d.count > 2 ? d.dropLast(2).reduce(1, *) : 1
            return make(x, w, .matrix(rows: rows, cols: cols, blocks: blocks))
        case "BatchNormalization":
            guard let x = n.input(0), vars == [x], let g = ctx.constant(n.input(1)), let v = ctx.constant(n.input(4)),
                  g.count == v.count else { return nil }
            let eps = Double(n.float("epsilon") ?? 1e-5)
            let s = (0..<g.count).map { g.double(at: $0) / (v.double(at: $0) + eps).squareRoot() }
            // One scale per channel of x (N, C, …): every fiber is one element, L = max|s|.
            return make(x, g, .diagonal(s, gain: s.reduce(0) { max($0, abs($1)) }))
        case "Mul", "Div":
            guard vars.count == 1, let a = n.input(0), let b = n.input(1) else { return nil }
            let x = vars[0]
            guard let c = ctx.constant(x == a ? b : a), c.dataType.isNumeric else { return nil }
            if n.opType == "Div" {
                guard x == a else { return nil }  // c / x: Div by a variable
                let s = (0..<c.count).map { 1 / c.double(at: $0) }
                return make(x, c, .diagonal(s, gain: Broadcast.fiberNorm(variable: ctx.shape(x), weights: s, weightShape: c.dims)))
            }
            let s = (0..<c.count).map { c.double(at: $0) }
            return make(x, c, .diagonal(s, gain: Broadcast.fiberNorm(variable: ctx.shape(x), weights: s, weightShape: c.dims)))
        default:
            return nil
        }
    }

    static func conv(_ n: Node, _ x: String, _ w: Tensor, _ ctx: GraphContext) -> WeightLayer? {
        let g = max(n.int("group") ?? 1, 1)
        let d = w.dims
        let kernel = Array(d[2...])
        let transposed = n.opType == "ConvTranspose"
        guard d[0] % g == 0 else { return nil }
        // Conv (M, C/g, k…): g blocks (M/g) × (C/g·Πk); ConvTranspose (C, M/g, k…): g blocks (C/g) × (M/g·Πk).
        let rows = d[0] / g, cols = d[1...].reduce(1, *)
        var layer = WeightLayer(nodeIndex: 0, node: n.name, op: n.opType, input: x, weight: w,
                                view: .matrix(rows: rows, cols: cols, blocks: g))
        let strides = n.ints("strides") ?? Array(repeating: 1, count: kernel.count)
        let dilations = n.ints("dilations") ?? Array(repeating: 1, count: kernel.count)
        layer.overlap = WindowCounts.closedForm(kernel: kernel, strides: strides, dilations: dilations)
        if let s = ctx.shape(x), s.count == d.count {
            let spatial = Array(s[2...])
            if !transposed, let geo = try? WindowGeometry.resolve(node: n, input: spatial, kernel: kernel, path: ctx.path) {
                layer.conv = ConvGeometry(inChannels: s[1], outChannels: d[0], groups: g, input: spatial, kernel: kernel,
                                          strides: geo.strides, dilations: geo.dilations, padsBegin: geo.padsBegin,
                                          padsEnd: geo.padsEnd, output: geo.output)
                layer.overlap = WindowCounts.maxOverlap(geo)
            } else if transposed, let geo = try? WindowGeometry.resolveTranspose(node: n, input: spatial, kernel: kernel, path: ctx.path) {
                layer.conv = ConvGeometry(inChannels: s[1], outChannels: d[1] * g, groups: g, input: spatial, kernel: kernel,
                                          strides: geo.strides, dilations: geo.dilations, padsBegin: geo.padsBegin,
                                          padsEnd: geo.padsEnd, output: geo.output, transposed: true)
                // Windows are cut from the output side: count over it.
                var big = geo
                big.input = geo.output
                big.output = geo.input
                layer.overlap = WindowCounts.maxOverlap(big)
            }
        }
        return layer
    }
}
