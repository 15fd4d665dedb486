import Foundation
import ONNX

/// The float64 reference's elementwise functions and layers (ONNX definitions).
extension Float64Model {
    func unary(_ n: Node) -> ((Double) -> Double)? {
        func a(_ k: String, _ d: Float) -> Double { Double(n.float(k) ?? d) }
        switch n.opType {
        case "Relu": return { max($0, 0) }
        case "LeakyRelu": let al = a("alpha", 0.01); return { $0 >= 0 ? $0 : al * $0 }
        case "Elu": let al = a("alpha", 1); return { $0 > 0 ? $0 : al * expm1($0) }
        case "Selu":
            let al = a("alpha", 1.67326319217681884765625), ga = a("gamma", 1.05070102214813232421875)
            return { ga * ($0 > 0 ? $0 : al * expm1($0)) }
        case "Celu": let al = a("alpha", 1); return { max(0, $0) + min(0, al * expm1($0 / al)) }
        case "ThresholdedRelu": let al = a("alpha", 1); return { $0 > al ? $0 : 0 }
        case "Shrink": let l = a("lambd", 0.5), b = a("bias", 0); return { $0 < -l ? $0 + b : ($0 > l ? $0 - b : 0) }
        case "Sigmoid": return { 1 / (1 + exp(-$0)) }
        case "HardSigmoid": let al = a("alpha", 0.2), b = a("beta", 0.5); return { min(max(al * $0 + b, 0), 1) }
        case "HardSwish": return { $0 * min(max($0 / 6 + 0.5, 0), 1) }
        case "Tanh": return tanh
        case "Softplus": return { $0 > 0 ? $0 + log1p(exp(-$0)) : log1p(exp($0)) }
        case "Softsign": return { $0 / (1 + abs($0)) }
        case "Neg": return { -$0 }
        case "Abs": return { abs($0) }
        case "Sign": return { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        case "Floor": return { $0.rounded(.down) }
        case "Ceil": return { $0.rounded(.up) }
        case "Round": return { $0.rounded(.toNearestOrEven) }
        case "Not": return { $0 != 0 ? 0 : 1 }
        case "Exp": return exp
        case "Erf": return erf
        case "Atan": return atan
        case "Sinh": return sinh
        case "Asinh": return asinh
        case "Cosh": return cosh
        case "Atanh": return atanh
        case "Log": return log
        case "Sqrt": return { $0.squareRoot() }
        case "Reciprocal": return { 1 / $0 }
        case "Sin": return sin
        case "Cos": return cos
        case "Gelu":
            if n.string("approximate") == "tanh" {
                return { 0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }
            }
            return { 0.5 * $0 * erfc(-$0 / 2.0.squareRoot()) }
        case "Mish": return { $0 * tanh($0 > 0 ? $0 + log1p(exp(-$0)) : log1p(exp($0))) }
        case "IsNaN": return { $0.isNaN ? 1 : 0 }
        case "IsInf": return { $0.isInfinite ? 1 : 0 }
        default: return nil
        }
    }

    func layer(_ n: Node, _ ins: [T?], _ x: T) throws -> [T] {
        func input(_ i: Int) throws -> T {
            guard i < ins.count, let t = ins[i] else { throw Unsupported(op: "\(n.opType) without input \(i)") }
            return t
        }
        switch n.opType {
        case "Conv": return [try conv(n, x, try input(1), ins.count > 2 ? ins[2] : nil)]
        case "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool": return [try pool(n, x)]
        case "Gemm":
            var a = try input(0), b = try input(1)
            if n.int("transA") == 1 { a = transpose2(a) }
            if n.int("transB") == 1 { b = transpose2(b) }
            var y = matmul(a, b)
            let alpha = Double(n.float("alpha") ?? 1), beta = Double(n.float("beta") ?? 1)
            y.v = y.v.map { $0 * alpha }
            if ins.count > 2, let c = ins[2] { y = broadcast([y, T(v: c.v.map { $0 * beta }, s: c.s)]) { $0[0] + $0[1] } }
            return [y]
        case "MatMul": return [matmul(try input(0), try input(1))]
        case "BatchNormalization":
            let (sc, b, m, v) = (try input(1), try input(2), try input(3), try input(4))
            let eps = Double(n.float("epsilon") ?? 1e-5), sp = x.s.dropFirst(2).reduce(1, *)
            return [T(v: x.v.indices.map { i in let c = (i / sp) % x.s[1]; return (x.v[i] - m.v[c]) * sc.v[c] / (v.v[c] + eps).squareRoot() + b.v[c] }, s: x.s)]
        case "LayerNormalization", "InstanceNormalization", "GroupNormalization":
            let eps = Double(n.float("epsilon") ?? 1e-5)
            let k: Int
            switch n.opType {
            case "LayerNormalization": k = x.s[(Shapes.axis(n.int("axis") ?? -1, rank: x.s.count) ?? 0)...].reduce(1, *)
            case "InstanceNormalization": k = x.s.dropFirst(2).reduce(1, *)
            default: k = x.s[1] / (n.int("num_groups") ?? 1) * x.s.dropFirst(2).reduce(1, *)
            }
            var z = x.v
            for g in 0..<(x.v.count / k) {
                let part = x.v[(g * k)..<((g + 1) * k)]
                let mu = part.reduce(0, +) / Double(k)
                let va = part.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(k)
                for j in 0..<k { z[g * k + j] = (x.v[g * k + j] - mu) / (va + eps).squareRoot() }
            }
            let sc = try input(1), b = ins.count > 2 ? ins[2] : nil
            let sp = x.s.dropFirst(2).reduce(1, *)
            let index: (Int) -> Int = n.opType == "LayerNormalization" ? { $0 % k }
                : (sc.v.count == x.s[1] ? { ($0 / sp) % x.s[1] } : { ($0 / k) % sc.v.count })
            return [T(v: z.indices.map { i in z[i] * sc.v[index(i) % sc.v.count] + (b.map { $0.v[index(i) % $0.v.count] } ?? 0) }, s: x.s)]
        case "Softmax", "LogSoftmax", "CumSum", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2",
             "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp", "ReduceProd":
            return [try alongAxes(n, ins, x)]
        case "TopK", "ArgMax", "ArgMin":
            let axis = Shapes.axis(n.int("axis") ?? (n.opType == "TopK" ? -1 : 0), rank: x.s.count) ?? 0
            let outer = x.s[..<axis].reduce(1, *), len = x.s[axis], inner = x.s[(axis + 1)...].reduce(1, *)
            let k = n.opType == "TopK" ? Int(try input(1).v[0]) : 1
            let largest = n.opType == "ArgMin" ? false : (n.int("largest") ?? 1) != 0
            var values: [Double] = [], picks: [Double] = []
            for o in 0..<outer {
                var rows: [[(Double, Double)]] = []
                for i in 0..<inner {
                    let line = (0..<len).map { (x.v[(o * len + $0) * inner + i], Double($0)) }
                    // Ties: the lower index first (ONNX TopK; ArgMax without select_last_index).
                    rows.append(line.sorted { largest ? ($0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1)) : ($0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1)) })
                }
                for j in 0..<k { for i in 0..<inner { values.append(rows[i][j].0); picks.append(rows[i][j].1) } }
            }
            var shape = x.s
            shape[axis] = k
            if n.opType != "TopK" {
                if (n.int("keepdims") ?? 1) == 0 { shape.remove(at: axis) }
                return [T(v: picks, s: shape)]
            }
            return [T(v: values, s: shape), T(v: picks, s: shape)]
        case "LRN":
            let size = n.int("size") ?? 1
            let (al, be, bi) = (Double(n.float("alpha") ?? 1e-4), Double(n.float("beta") ?? 0.75), Double(n.float("bias") ?? 1))
            let c = x.s[1], sp = x.s.dropFirst(2).reduce(1, *)
            return [T(v: x.v.indices.map { i in
                let ch = (i / sp) % c, p = i % sp, b = i / (sp * c)
                var sq = 0.0
                for k in max(0, ch - (size - 1) / 2)...min(c - 1, ch + size - 1 - (size - 1) / 2) { let v = x.v[(b * c + k) * sp + p]; sq += v * v }
                return x.v[i] / pow(bi + al / Double(size) * sq, be)
            }, s: x.s)]
        default:
            throw Unsupported(op: n.opType)
        }
    }

    func transpose2(_ a: T) -> T {
        let (r, c) = (a.s[0], a.s[1])
        return T(v: (0..<(r * c)).map { i in a.v[(i % r) * c + i / r] }, s: [c, r])
    }

    func matmul(_ a0: T, _ b0: T) -> T {
        let a = a0.s.count == 1 ? T(v: a0.v, s: [1] + a0.s) : a0, b = b0.s.count == 1 ? T(v: b0.v, s: b0.s + [1]) : b0
        let (m, k, n) = (a.s[a.s.count - 2], a.s[a.s.count - 1], b.s[b.s.count - 1])
        let ba = Array(a.s.dropLast(2)), bb = Array(b.s.dropLast(2))
        let batch = Shapes.broadcast(ba, bb) ?? ba
        let sa = Shapes.broadcastStrides(ba, to: batch), sb = Shapes.broadcastStrides(bb, to: batch)
        var v: [Double] = []
        for idx in indices(batch) {
            let oa = zip(idx, sa).reduce(0) { $0 + $1.0 * $1.1 } * m * k, ob = zip(idx, sb).reduce(0) { $0 + $1.0 * $1.1 } * k * n
            for i in 0..<m { for j in 0..<n { v.append((0..<k).reduce(0.0) { $0 + a.v[oa + i * k + $1] * b.v[ob + $1 * n + j] }) } }
        }
        var s = batch
        if a0.s.count > 1 { s.append(m) }
        if b0.s.count > 1 { s.append(n) }
        return T(v: v, s: s)
    }
}
