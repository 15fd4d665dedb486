import Foundation
import Testing
import ONNX

/// A tiny float64 forward evaluator for the ops the soundness tests use (batch 1, NCHW,
/// ONNX semantics), written independently of the analysis so finite differences can
/// measure ‖J‖ against the bound.
struct TinyEvaluator {
    struct T { var v: [Double]; var s: [Int] }
    let g: ModelGraph

    func run(_ x: [Double], output: String) throws -> [Double] {
        var env: [String: T] = [:]
        for (k, t) in g.constants { env[k] = T(v: t.doubles(), s: t.dims) }
        let input = try #require(g.inputs.first)
        env[input.name] = T(v: x, s: try #require(g.shapes[input.name]))
        for idx in g.order {
            let n = g.graph.nodes[idx]
            if n.outputs.allSatisfy({ env[$0] != nil }) { continue }
            let ins = n.inputs.map { $0.isEmpty ? nil : env[$0] }
            env[n.outputs[0]] = try eval(n, ins)
            if n.outputs[0] == output { break }
        }
        return try #require(env[output]).v
    }

    func eval(_ n: Node, _ ins: [T?]) throws -> T {
        let x = try #require(ins[0])
        func unary(_ f: (Double) -> Double) -> T { T(v: x.v.map(f), s: x.s) }
        switch n.opType {
        case "Relu": return unary { max($0, 0) }
        case "LeakyRelu": let a = Double(n.float("alpha") ?? 0.01); return unary { $0 >= 0 ? $0 : a * $0 }
        case "Sigmoid": return unary { 1 / (1 + exp(-$0)) }
        case "Tanh": return unary { tanh($0) }
        case "Softplus": return unary { log1p(exp($0)) }
        case "HardSigmoid":
            let a = Double(n.float("alpha") ?? 0.2), b = Double(n.float("beta") ?? 0.5)
            return unary { min(max(a * $0 + b, 0), 1) }
        case "HardSwish": return unary { $0 * min(max($0 / 6 + 0.5, 0), 1) }
        case "Clip":
            let lo = ins.count > 1 ? ins[1]?.v.first ?? -.infinity : -.infinity
            let hi = ins.count > 2 ? ins[2]?.v.first ?? .infinity : .infinity
            return unary { min(max($0, lo), hi) }
        case "Identity", "Dropout": return x
        case "Flatten": return T(v: x.v, s: [x.s[0], x.s.dropFirst().reduce(1, *)])
        case "Add", "Sub", "Mul", "Div":
            let y = try #require(ins[1])
            let out = try #require(Shapes.broadcast(x.s, y.s))
            let sx = Shapes.broadcastStrides(x.s, to: out), sy = Shapes.broadcastStrides(y.s, to: out)
            let count = out.reduce(1, *)
            let st = Shapes.strides(out)
            var v = [Double](repeating: 0, count: count)
            for i in 0..<count {
                var ix = 0, iy = 0, r = i
                for a in 0..<out.count { let c = r / st[a]; r %= st[a]; ix += c * sx[a]; iy += c * sy[a] }
                let (p, q) = (x.v[ix], y.v[iy])
                v[i] = n.opType == "Add" ? p + q : n.opType == "Sub" ? p - q : n.opType == "Mul" ? p * q : p / q
            }
            return T(v: v, s: out)
        case "Gemm":
            let w = try #require(ins[1])
            let tb = n.int("transB") == 1
            let k = x.s[1], m = tb ? w.s[0] : w.s[1]
            var v = [Double](repeating: 0, count: m)
            for j in 0..<m {
                for i in 0..<k { v[j] += x.v[i] * (tb ? w.v[j * k + i] : w.v[i * m + j]) }
                if ins.count > 2, let c = ins[2] { v[j] += c.v.count == 1 ? c.v[0] : c.v[j] }
            }
            return T(v: v, s: [1, m])
        case "MatMul":
            let w = try #require(ins[1])
            let k = w.s[0], m = w.s[1]
            let rows = x.v.count / k
            var v = [Double](repeating: 0, count: rows * m)
            for r in 0..<rows { for j in 0..<m { for i in 0..<k { v[r * m + j] += x.v[r * k + i] * w.v[i * m + j] } } }
            return T(v: v, s: Array(x.s.dropLast()) + [m])
        case "Concat":
            let axis = try #require(Shapes.axis(n.int("axis") ?? 1, rank: x.s.count))
            let parts = ins.compactMap { $0 }
            let outer = x.s[..<axis].reduce(1, *)
            var v: [Double] = []
            for o in 0..<outer {
                for p in parts {
                    let inner = p.s[axis...].reduce(1, *)
                    v += p.v[(o * inner)..<((o + 1) * inner)]
                }
            }
            var s = x.s
            s[axis] = parts.reduce(0) { $0 + $1.s[axis] }
            return T(v: v, s: s)
        case "BatchNormalization":
            let (gm, bt, mn, vr) = (try #require(ins[1]), try #require(ins[2]), try #require(ins[3]), try #require(ins[4]))
            let eps = Double(n.float("epsilon") ?? 1e-5)
            let hw = x.s[2...].reduce(1, *)
            return T(v: x.v.indices.map { i in
                let c = (i / hw) % x.s[1]
                return gm.v[c] * (x.v[i] - mn.v[c]) / (vr.v[c] + eps).squareRoot() + bt.v[c]
            }, s: x.s)
        case "GlobalAveragePool":
            let hw = x.s[2...].reduce(1, *)
            return T(v: (0..<x.s[1]).map { c in x.v[(c * hw)..<((c + 1) * hw)].reduce(0, +) / Double(hw) }, s: [1, x.s[1], 1, 1])
        case "LRN":
            let size = n.int("size") ?? 1
            let (alpha, beta, bias) = (Double(n.float("alpha") ?? 1e-4), Double(n.float("beta") ?? 0.75), Double(n.float("bias") ?? 1))
            let c = x.s[1], hw = x.s[2...].reduce(1, *)
            return T(v: x.v.indices.map { i in
                let ch = i / hw, p = i % hw
                let lo = max(0, ch - (size - 1) / 2), hi = min(c - 1, ch + (size - 1) / 2 + (size - 1) % 2)
                var sq = 0.0
                for k in lo...hi { sq += x.v[k * hw + p] * x.v[k * hw + p] }
                return x.v[i] / pow(bias + alpha / Double(size) * sq, beta)
            }, s: x.s)
        case "Resize":
            // nearest, integer scales (replication), as the soundness models use it.
            let sc = try #require(ins[2]).v.map { Int($0) }
            let out = zip(x.s, sc).map { $0 * $1 }
            let st = Shapes.strides(x.s), so = Shapes.strides(out)
            return T(v: (0..<out.reduce(1, *)).map { i in
                var r = i, src = 0
                for a in 0..<out.count { let c = r / so[a]; r %= so[a]; src += (c / sc[a]) * st[a] }
                return x.v[src]
            }, s: out)
        case "Conv":
            return try conv(n, x, try #require(ins[1]), ins.count > 2 ? ins[2] : nil)
        case "MaxPool", "AveragePool":
            return try pool(n, x)
        default:
            return try evalModern(n, ins, x)
        }
    }

    enum EvaluatorError: Error { case unsupported(String) }

    func conv(_ n: Node, _ x: T, _ w: T, _ b: T?) throws -> T {
        let geo = try WindowGeometry.resolve(node: n, input: Array(x.s[2...]), kernel: Array(w.s[2...]), path: "")
        let grp = n.int("group") ?? 1
        let (m, cg, kh, kw) = (w.s[0], w.s[1], w.s[2], w.s[3])
        let (h, wd, oh, ow) = (x.s[2], x.s[3], geo.output[0], geo.output[1])
        var v = [Double](repeating: 0, count: m * oh * ow)
        for o in 0..<m {
            let gi = o / (m / grp)
            for i in 0..<oh { for j in 0..<ow {
                var s = b?.v[o] ?? 0
                for cl in 0..<cg { for a in 0..<kh { for bb in 0..<kw {
                    let p = i * geo.strides[0] + a * geo.dilations[0] - geo.padsBegin[0]
                    let q = j * geo.strides[1] + bb * geo.dilations[1] - geo.padsBegin[1]
                    guard p >= 0, p < h, q >= 0, q < wd else { continue }
                    s += w.v[((o * cg + cl) * kh + a) * kw + bb] * x.v[((gi * cg + cl) * h + p) * wd + q]
                } } }
                v[(o * oh + i) * ow + j] = s
            } }
        }
        return T(v: v, s: [1, m, oh, ow])
    }

    func pool(_ n: Node, _ x: T) throws -> T {
        let k = try #require(n.ints("kernel_shape"))
        let geo = try WindowGeometry.resolve(node: n, input: Array(x.s[2...]), kernel: k, ceilMode: n.int("ceil_mode") == 1, path: "")
        let (c, h, wd, oh, ow) = (x.s[1], x.s[2], x.s[3], geo.output[0], geo.output[1])
        let includePad = n.int("count_include_pad") == 1
        var v = [Double](repeating: 0, count: c * oh * ow)
        for ch in 0..<c { for i in 0..<oh { for j in 0..<ow {
            var best = -Double.infinity, sum = 0.0, cnt = 0, padded = 0
            for a in 0..<k[0] { for b in 0..<k[1] {
                let p = i * geo.strides[0] + a - geo.padsBegin[0], q = j * geo.strides[1] + b - geo.padsBegin[1]
                if p >= -geo.padsBegin[0] && p < h + geo.padsEnd[0] && q >= -geo.padsBegin[1] && q < wd + geo.padsEnd[1] { padded += 1 }
                guard p >= 0, p < h, q >= 0, q < wd else { continue }
                let val = x.v[(ch * h + p) * wd + q]
                best = max(best, val); sum += val; cnt += 1
            } }
            v[(ch * oh + i) * ow + j] = n.opType == "MaxPool" ? best : sum / Double(includePad ? padded : max(cnt, 1))
        } } }
        return T(v: v, s: [1, c, oh, ow])
    }

    /// ‖J‖₂ at `x` by central differences (h = 1e-5) and LAPACK on the dense Jacobian.
    func jacobianNorm(at x: [Double], output: String) throws -> Double {
        try centralDifferenceNorm(at: x) { try run($0, output: output) }
    }
}

import Linalg
enum SpectralNormRef {
    static func largest(_ a: [Double], rows: Int, cols: Int) throws -> Double {
        try SpectralNorm.singularValues(a, rows: rows, cols: cols).max() ?? 0
    }
}

/// ‖J‖₂ of `f` at `x` by central differences (h = 1e-5) and LAPACK on the dense Jacobian —
/// the one finite-difference reference of the float64 evaluators in these tests.
func centralDifferenceNorm(at x: [Double], _ f: ([Double]) throws -> [Double]) throws -> Double {
        let h = 1e-5
        var cols: [[Double]] = []
        for i in x.indices {
            var p = x, m = x
            p[i] += h
            m[i] -= h
            let (fp, fm) = (try f(p), try f(m))
            cols.append(zip(fp, fm).map { ($0 - $1) / (2 * h) })
        }
        let rows = cols.first?.count ?? 0
        var a = [Double](repeating: 0, count: rows * x.count)
        for (j, col) in cols.enumerated() { for (i, v) in col.enumerated() { a[i * x.count + j] = v } }
        return try SpectralNormRef.largest(a, rows: rows, cols: x.count)
}
