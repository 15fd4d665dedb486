import Foundation
import ONNX
import Testing

/// The float64 evaluator's ops of modern exports (ONNX semantics, batch 1), written from the
/// operator definitions independently of the analysis.
extension TinyEvaluator {
    func evalModern(_ n: Node, _ ins: [T?], _ x: T) throws -> T {
        func unary(_ f: (Double) -> Double) -> T { T(v: x.v.map(f), s: x.s) }
        func axis(_ def: Int = -1) throws -> Int { try #require(Shapes.axis(n.int("axis") ?? def, rank: x.s.count)) }
        switch n.opType {
        case "Transpose":
            let perm = n.ints("perm") ?? Array((0..<x.s.count).reversed())
            let out = perm.map { x.s[$0] }
            let si = Shapes.strides(x.s), so = Shapes.strides(out)
            var v = [Double](repeating: 0, count: x.v.count)
            for o in v.indices {
                var r = o, src = 0
                for a in 0..<out.count { let c = r / so[a]; r %= so[a]; src += c * si[perm[a]] }
                v[o] = x.v[src]
            }
            return T(v: v, s: out)
        case "Reshape":
            let target = try #require(ins[1]).v.map { Int($0) }
            var out = target.enumerated().map { $0.element == 0 ? x.s[$0.offset] : $0.element }
            if let i = out.firstIndex(of: -1) { out[i] = x.v.count / out.filter { $0 != -1 }.reduce(1, *) }
            return T(v: x.v, s: out)
        case "Erf": return unary(erf)
        case "Mish": return unary { $0 * tanh(log1p(exp($0))) }
        case "Celu": let a = Double(n.float("alpha") ?? 1); return unary { max(0, $0) + min(0, a * (exp($0 / a) - 1)) }
        case "Sin": return unary(sin)
        case "Cos": return unary(cos)
        case "Neg": return unary { -$0 }
        case "Abs": return unary { abs($0) }
        case "Gelu": return unary { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
        case "PRelu":
            let slope = try #require(ins[1])
            let st = Shapes.broadcastStrides(slope.s, to: x.s), so = Shapes.strides(x.s)
            return T(v: x.v.indices.map { i in
                var r = i, j = 0
                for a in 0..<x.s.count { let c = r / so[a]; r %= so[a]; j += c * st[a] }
                return x.v[i] >= 0 ? x.v[i] : slope.v[j] * x.v[i]
            }, s: x.s)
        case "Softmax", "LogSoftmax", "ReduceLogSumExp", "CumSum", "TopK":
            let a = n.opType == "CumSum" ? Int(try #require(ins[1]).v[0]) : (n.opType == "ReduceLogSumExp" ? (n.ints("axes")?.first ?? -1) : (n.int("axis") ?? -1))
            let ax = try #require(Shapes.axis(a, rank: x.s.count))
            let k = x.s[ax], inner = x.s[(ax + 1)...].reduce(1, *), outer = x.s[..<ax].reduce(1, *)
            let topk = n.opType == "TopK" ? Int(try #require(ins[1]).v[0]) : 0
            var outShape = x.s
            if n.opType == "ReduceLogSumExp" { outShape[ax] = 1 }
            if n.opType == "TopK" { outShape[ax] = topk }
            var v = [Double](repeating: 0, count: outShape.reduce(1, *))
            for o in 0..<outer { for i in 0..<inner {
                let slice = (0..<k).map { x.v[(o * k + $0) * inner + i] }
                let m = slice.max() ?? 0
                let e = slice.map { exp($0 - m) }
                let z = e.reduce(0, +)
                switch n.opType {
                case "Softmax": for j in 0..<k { v[(o * k + j) * inner + i] = e[j] / z }
                case "LogSoftmax": for j in 0..<k { v[(o * k + j) * inner + i] = slice[j] - m - log(z) }
                case "ReduceLogSumExp": v[o * inner + i] = m + log(z)
                case "TopK":
                    let sorted = slice.sorted(by: >)
                    for j in 0..<topk { v[(o * topk + j) * inner + i] = sorted[j] }
                default:
                    var acc = 0.0
                    let exclusive = n.int("exclusive") == 1, reverse = n.int("reverse") == 1
                    for jj in 0..<k {
                        let j = reverse ? k - 1 - jj : jj
                        if exclusive { v[(o * k + j) * inner + i] = acc; acc += slice[j] } else { acc += slice[j]; v[(o * k + j) * inner + i] = acc }
                    }
                }
            } }
            return T(v: v, s: outShape)
        case "Expand", "Tile":
            let out: [Int]
            let arg = try #require(ins[1]).v.map { Int($0) }
            if n.opType == "Expand" {
                out = try #require(Shapes.broadcast(x.s, arg))
            } else {
                out = zip(x.s, arg).map { $0 * $1 }
            }
            let so = Shapes.strides(out), sx = Shapes.strides(x.s)
            return T(v: (0..<out.reduce(1, *)).map { i in
                var r = i, j = 0
                for a in 0..<out.count {
                    let c = r / so[a]
                    r %= so[a]
                    j += (n.opType == "Expand" ? (x.s[a - (out.count - x.s.count)] == 1 ? 0 : c) : c % x.s[a]) * sx[a]
                }
                return x.v[j]
            }, s: out)
        case "Where":
            let c = try #require(ins[0]), a = try #require(ins[1]), b = try #require(ins[2])
            let ca = try #require(Shapes.broadcast(c.s, a.s))
            let out = try #require(Shapes.broadcast(ca, b.s))
            let so = Shapes.strides(out)
            let sc = Shapes.broadcastStrides(c.s, to: out), sa = Shapes.broadcastStrides(a.s, to: out), sb = Shapes.broadcastStrides(b.s, to: out)
            return T(v: (0..<out.reduce(1, *)).map { i in
                var r = i, ic = 0, ia = 0, ib = 0
                for d in 0..<out.count { let k = r / so[d]; r %= so[d]; ic += k * sc[d]; ia += k * sa[d]; ib += k * sb[d] }
                return c.v[ic] != 0 ? a.v[ia] : b.v[ib]
            }, s: out)
        case "GatherElements":
            let idx = try #require(ins[1])
            let ax = try axis(0)
            let si = Shapes.strides(idx.s), sx = Shapes.strides(x.s)
            return T(v: (0..<idx.v.count).map { p in
                var r = p, j = 0
                for d in 0..<idx.s.count {
                    let c = r / si[d]
                    r %= si[d]
                    let coord = d == ax ? (Int(idx.v[p]) < 0 ? Int(idx.v[p]) + x.s[ax] : Int(idx.v[p])) : c
                    j += coord * sx[d]
                }
                return x.v[j]
            }, s: idx.s)
        default:
            throw EvaluatorError.unsupported(n.opType)
        }
    }
}
