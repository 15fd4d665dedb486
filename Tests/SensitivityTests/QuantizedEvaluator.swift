import Foundation
import ONNX
import Testing

/// A float64 evaluator of quantized networks as the real-valued maps they approximate, with
/// the rounding and the saturation removed (the map Kappa's Eq. 7 bounds), written from the
/// operator definitions independently of the analysis:
/// QuantizeLinear x/s + z, DequantizeLinear (x − z)·s (per tensor, per axis, blocked);
/// DynamicQuantizeLinear s = (max(0, max x) − min(0, min x))/255, z = −min(0, min x)/s,
/// x/s + z; MatMulInteger/ConvInteger (a − a_z) ⋆ (b − b_z); QLinear ops
/// quantize(f(dequantize(·))); Floor and Cast identities (rounding removed). Float ops go to
/// ``TinyEvaluator``. Multi-output nodes (DynamicQuantizeLinear) are supported.
struct QuantizedEvaluator {
    typealias T = TinyEvaluator.T
    let g: ModelGraph

    func run(_ x: [Double], output: String) throws -> [Double] {
        var env: [String: T] = [:]
        for (k, t) in g.constants { env[k] = T(v: t.doubles(), s: t.dims) }
        let input = try #require(g.inputs.first)
        env[input.name] = T(v: x, s: try #require(g.shapes[input.name]))
        let tiny = TinyEvaluator(g: g)
        for idx in g.order {
            if env[output] != nil { break }
            let n = g.graph.nodes[idx]
            if n.outputs.allSatisfy({ $0.isEmpty || env[$0] != nil }) { continue }
            let ins = n.inputs.map { $0.isEmpty ? nil : env[$0] }
            let outs = try eval(n, ins, tiny)
            for (o, t) in zip(n.outputs, outs) where !o.isEmpty { env[o] = t }
        }
        return try #require(env[output]).v
    }

    /// The per-element value of a scale/zero-point tensor p for x: scalar, per axis, or blocked.
    static func param(_ p: T?, _ x: T, axis: Int, block: Int) -> (Int) -> Double {
        guard let p, p.v.count > 1 else { let v = p?.v.first ?? 0; return { _ in v } }
        let r = x.s.count
        let a = axis < 0 ? axis + r : axis
        let inner = x.s[(a + 1)...].reduce(1, *)
        if block > 0 {
            let blocks = p.s[a]
            return { i in
                let outer = i / (inner * x.s[a]), c = (i / inner) % x.s[a], k = i % inner
                return p.v[(outer * blocks + c / block) * inner + k]
            }
        }
        return { i in p.v[(i / inner) % x.s[a]] }
    }

    static func matmul(_ a: T, _ b: T) -> T {
        let (m, k, n) = (a.s.count == 1 ? 1 : a.s[a.s.count - 2], a.s[a.s.count - 1], b.s.count == 1 ? 1 : b.s[b.s.count - 1])
        var v = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for l in 0..<k { v[i * n + j] += a.v[i * k + l] * b.v[l * n + j] } } }
        return T(v: v, s: Array(a.s.dropLast()) + [n])
    }

    func eval(_ n: Node, _ ins: [T?], _ tiny: TinyEvaluator) throws -> [T] {
        func arg(_ i: Int) throws -> T { try #require(i < ins.count ? ins[i] : nil, "\(n.opType) input \(i)") }
        func opt(_ i: Int) -> T? { i < ins.count ? ins[i] : nil }
        func scalar(_ i: Int) throws -> Double { try #require(try arg(i).v.first) }
        func dq(_ x: T, _ s: T?, _ z: T?, axis: Int = 1, block: Int = 0) -> T {
            let sf = Self.param(s, x, axis: axis, block: block), zf = Self.param(z, x, axis: axis, block: block)
            return T(v: x.v.indices.map { (x.v[$0] - zf($0)) * sf($0) }, s: x.s)
        }
        func q(_ x: T, _ s: T?, _ z: T?, axis: Int = 1, block: Int = 0) -> T {
            let sf = Self.param(s, x, axis: axis, block: block), zf = Self.param(z, x, axis: axis, block: block)
            return T(v: x.v.indices.map { x.v[$0] / sf($0) + zf($0) }, s: x.s)
        }
        /// A QLinear unary/pool op: quantize(f(dequantize(x))), scales at 1 and 3.
        func qlinear(_ f: (T) throws -> T) throws -> [T] {
            let x = dq(try arg(0), try arg(1), opt(2))
            return [q(try f(x), try arg(3), opt(4))]
        }
        let axis = n.int("axis") ?? 1, block = n.int("block_size") ?? 0
        switch n.opType {
        case "QuantizeLinear": return [q(try arg(0), try arg(1), opt(2), axis: axis, block: block)]
        case "DequantizeLinear": return [dq(try arg(0), try arg(1), opt(2), axis: axis, block: block)]
        case "DynamicQuantizeLinear":
            let x = try arg(0)
            let lo = min(0, x.v.min() ?? 0), hi = max(0, x.v.max() ?? 0)
            let s = (hi - lo) / 255, z = -lo / s
            return [T(v: x.v.map { $0 / s + z }, s: x.s), T(v: [s], s: []), T(v: [z], s: [])]
        case "Floor", "Cast", "Round", "Ceil": return [try arg(0)]
        case "Reshape":
            let x = try arg(0)
            let target = try arg(1).v.map { Int($0) }
            return [T(v: x.v, s: try #require(Shapes.reshape(x.s, to: target)))]
        case "MatMulInteger", "ConvInteger":
            let a = dq(try arg(0), T(v: [1], s: []), opt(2)), b = dq(try arg(1), T(v: [1], s: []), opt(3), axis: n.opType == "ConvInteger" ? 0 : -1)
            return [n.opType == "MatMulInteger" ? Self.matmul(a, b) : try tiny.conv(n, a, b, nil)]
        case "QLinearConv":
            let x = dq(try arg(0), try arg(1), opt(2)), w = dq(try arg(3), try arg(4), opt(5), axis: 0)
            var bias: T?
            if let b = opt(8) {
                // B is int32 with scale x_s·w_s[m].
                let xs = try scalar(1), ws = try arg(4)
                bias = T(v: b.v.indices.map { b.v[$0] * xs * (ws.v.count == 1 ? ws.v[0] : ws.v[$0]) }, s: b.s)
            }
            return [q(try tiny.conv(n, x, w, bias), try arg(6), opt(7))]
        case "QLinearMatMul":
            let a = dq(try arg(0), try arg(1), opt(2), axis: -2), b = dq(try arg(3), try arg(4), opt(5), axis: -1)
            return [q(Self.matmul(a, b), try arg(6), opt(7), axis: -2)]
        case "QLinearAdd", "QLinearMul":
            let a = dq(try arg(0), try arg(1), opt(2)), b = dq(try arg(3), try arg(4), opt(5))
            var node = n
            node.opType = n.opType == "QLinearAdd" ? "Add" : "Mul"
            return [q(try tiny.eval(node, [a, b]), try arg(6), opt(7))]
        case "QLinearSigmoid":
            return try qlinear { x in T(v: x.v.map { 1 / (1 + exp(-$0)) }, s: x.s) }
        case "QLinearLeakyRelu":
            let alpha = Double(n.float("alpha") ?? 0.01)
            return try qlinear { x in T(v: x.v.map { $0 >= 0 ? $0 : alpha * $0 }, s: x.s) }
        case "QLinearGlobalAveragePool":
            var node = n
            node.opType = "GlobalAveragePool"
            return try qlinear { try tiny.eval(node, [$0]) }
        case "QLinearConcat":
            var parts: [T?] = []
            for k in stride(from: 2, to: ins.count, by: 3) { parts.append(dq(try arg(k), try arg(k + 1), opt(k + 2))) }
            var node = n
            node.opType = "Concat"
            return [q(try tiny.eval(node, parts), try arg(0), opt(1))]
        case "QGemm":
            let a = dq(try arg(0), try arg(1), opt(2))
            let tb = n.int("transB") == 1
            let b = dq(try arg(3), try arg(4), opt(5), axis: tb ? 0 : 1)
            let bt = tb ? T(v: (0..<b.v.count).map { i in b.v[(i % b.s[0]) * b.s[1] + i / b.s[0]] }, s: [b.s[1], b.s[0]]) : b
            let alpha = Double(n.float("alpha") ?? 1)
            var y = Self.matmul(a, bt)
            y.v = y.v.map { $0 * alpha }
            if let c = opt(6) {
                let cs = alpha * (try scalar(1)) * (try arg(4)).v[0]
                y.v = y.v.indices.map { y.v[$0] + cs * c.v[c.v.count == 1 ? 0 : $0 % c.v.count] }
            }
            return [opt(7) == nil ? y : q(y, opt(7), opt(8))]
        case "DynamicQuantizeMatMul":
            let b = dq(try arg(1), try arg(2), opt(3), axis: -1)
            var y = Self.matmul(try arg(0), b)
            if let bias = opt(4) { y.v = y.v.indices.map { y.v[$0] + bias.v[$0 % bias.v.count] } }
            return [y]
        case "MatMulIntegerToFloat":
            let a = dq(try arg(0), try arg(2), opt(4), axis: -1), b = dq(try arg(1), try arg(3), opt(5), axis: -1)
            var y = Self.matmul(a, b)
            if let bias = opt(6) { y.v = y.v.indices.map { y.v[$0] + bias.v[$0 % bias.v.count] } }
            return [y]
        default:
            return [try tiny.eval(n, ins)]
        }
    }

    /// ‖J‖₂ at `x` by central differences (h = 1e-5) and LAPACK on the dense Jacobian.
    func jacobianNorm(at x: [Double], output: String) throws -> Double {
        try centralDifferenceNorm(at: x) { try run($0, output: output) }
    }
}
