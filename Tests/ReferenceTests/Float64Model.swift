import Foundation
import ONNX

/// A float64 forward pass for the interval evaluator's soundness tests: the ONNX operator
/// definitions of the ops those tests use, written from the spec independently of the engine
/// and of the evaluator (batch and rank general where the op allows). It runs the taken
/// branch of an inlined If, like the engine.
struct Float64Model {
    struct T { var v: [Double]; var s: [Int] }
    struct Unsupported: Error, CustomStringConvertible { var op: String; var description: String { "float64 reference has no \(op)" } }

    let g: ModelGraph

    /// Every tensor the graph computes from `feeds` (graph inputs by name).
    func run(_ feeds: [String: T]) throws -> [String: T] {
        var env = feeds
        func value(_ name: String) -> T? {
            if let t = env[name] { return t }
            return g.constants[name].map { T(v: $0.doubles(), s: $0.dims) }
        }
        for idx in g.order {
            let n = g.graph.nodes[idx]
            if n.outputs.allSatisfy({ $0.isEmpty || g.constants[$0] != nil || feeds[$0] != nil }) { continue }
            if n.guards.contains(where: { gd in (value(gd.condition)?.v.first).map { ($0 != 0) != gd.branch } ?? true }) { continue }
            let ins = n.inputs.map { $0.isEmpty ? nil : value($0) }
            if n.domain == "kappa" {
                let k = n.outputs.count, taken = (ins[0]?.v.first ?? 0) != 0
                for j in 0..<k { env[n.outputs[j]] = ins[taken ? 1 + j : 1 + k + j] }
                continue
            }
            let outs = try eval(n, ins)
            for (o, t) in zip(n.outputs, outs) where !o.isEmpty { env[o] = t }
        }
        return env
    }

    func shape(_ n: Node, _ k: Int = 0) throws -> [Int] {
        guard let s = g.shapes[n.outputs[k]] else { throw Unsupported(op: "\(n.opType) without a static output shape") }
        return s
    }

    func eval(_ n: Node, _ ins: [T?]) throws -> [T] {
        guard let x = ins.first ?? nil else { throw Unsupported(op: "\(n.opType) without input 0") }
        if let f = unary(n) { return [T(v: x.v.map(f), s: x.s)] }
        if let f = binary(n.opType, fmod: n.int("fmod") == 1) { return [broadcast(ins.compactMap { $0 }, f)] }
        switch n.opType {
        case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout": return [T(v: x.v, s: try shape(n))]
        case "Cast":
            let to = DataType(rawValue: Int32(n.int("to") ?? 1)) ?? .float
            return [T(v: to.isFloatingPoint ? x.v : (to == .bool ? x.v.map { $0 != 0 ? 1 : 0 } : x.v.map { $0.rounded(.towardZero) }), s: x.s)]
        case "Clip":
            let lo = n.float("min").map(Double.init) ?? (ins.count > 1 ? ins[1]?.v.first : nil) ?? -.infinity
            let hi = n.float("max").map(Double.init) ?? (ins.count > 2 ? ins[2]?.v.first : nil) ?? .infinity
            return [T(v: x.v.map { min(max($0, lo), hi) }, s: x.s)]
        case "Where":
            return [broadcast(ins.compactMap { $0 }) { $0[0] != 0 ? $0[1] : $0[2] }]
        case "Transpose":
            let perm = n.ints("perm") ?? Array(x.s.indices.reversed())
            let out = perm.map { x.s[$0] }, sx = Shapes.strides(x.s)
            return [T(v: indices(out).map { idx in x.v[zip(perm, idx).reduce(0) { $0 + $1.1 * sx[$1.0] }] }, s: out)]
        case "Concat":
            let axis = Shapes.axis(n.int("axis") ?? 0, rank: x.s.count) ?? 0
            let parts = ins.compactMap { $0 }
            var out = x.s
            out[axis] = parts.reduce(0) { $0 + $1.s[axis] }
            var v: [Double] = []
            for o in 0..<x.s[..<axis].reduce(1, *) {
                for p in parts { let inner = p.s[axis...].reduce(1, *); v += p.v[(o * inner)..<((o + 1) * inner)] }
            }
            return [T(v: v, s: out)]
        case "Gather":
            guard let ind = ins[1] else { throw Unsupported(op: "Gather without indices") }
            let axis = Shapes.axis(n.int("axis") ?? 0, rank: x.s.count) ?? 0
            let outer = x.s[..<axis].reduce(1, *), len = x.s[axis], inner = x.s[(axis + 1)...].reduce(1, *)
            var v: [Double] = []
            for o in 0..<outer { for i in ind.v { let r = Int(i) < 0 ? Int(i) + len : Int(i); v += x.v[((o * len + r) * inner)..<((o * len + r + 1) * inner)] } }
            return [T(v: v, s: Array(x.s[..<axis]) + ind.s + Array(x.s[(axis + 1)...]))]
        case "QuantizeLinear", "DequantizeLinear":
            guard let s = ins[1]?.v, s.count == 1 else { throw Unsupported(op: "\(n.opType) per axis") }
            let z = ins.count > 2 ? ins[2]?.v.first ?? 0 : 0
            if n.opType == "DequantizeLinear" { return [T(v: x.v.map { ($0 - z) * s[0] }, s: x.s)] }
            return [T(v: x.v.map { min(max(($0 / s[0]).rounded(.toNearestOrEven) + z, 0), 255) }, s: x.s)]
        default:
            return try layer(n, ins, x)
        }
    }

    /// Row-major multi-indices of `shape`.
    func indices(_ shape: [Int]) -> [[Int]] {
        var out: [[Int]] = [], idx = [Int](repeating: 0, count: shape.count)
        let count = shape.reduce(1, *)
        for _ in 0..<count {
            out.append(idx)
            var a = shape.count - 1
            while a >= 0 { idx[a] += 1; if idx[a] < shape[a] { break }; idx[a] = 0; a -= 1 }
        }
        return out
    }

    /// f over numpy-broadcast operands.
    func broadcast(_ xs: [T], _ f: ([Double]) -> Double) -> T {
        let out = xs.dropFirst().reduce(xs[0].s) { Shapes.broadcast($0, $1.s) ?? $0 }
        let strides = xs.map { Shapes.broadcastStrides($0.s, to: out) }
        return T(v: indices(out).map { idx in
            f(xs.indices.map { k in xs[k].v[zip(idx, strides[k]).reduce(0) { $0 + $1.0 * $1.1 }] })
        }, s: out)
    }

    func binary(_ op: String, fmod: Bool) -> (([Double]) -> Double)? {
        switch op {
        case "Add": return { $0[0] + $0[1] }
        case "Sub": return { $0[0] - $0[1] }
        case "Mul": return { $0[0] * $0[1] }
        case "Div": return { $0[0] / $0[1] }
        case "Pow": return { pow($0[0], $0[1]) }
        case "Max": return { $0.max() ?? .nan }
        case "Min": return { $0.min() ?? .nan }
        case "Sum": return { $0.reduce(0, +) }
        case "Mean": return { $0.reduce(0, +) / Double($0.count) }
        case "PRelu": return { $0[0] >= 0 ? $0[0] : $0[0] * $0[1] }
        case "Less": return { $0[0] < $0[1] ? 1 : 0 }
        case "Greater": return { $0[0] > $0[1] ? 1 : 0 }
        case "LessOrEqual": return { $0[0] <= $0[1] ? 1 : 0 }
        case "GreaterOrEqual": return { $0[0] >= $0[1] ? 1 : 0 }
        case "Equal": return { $0[0] == $0[1] ? 1 : 0 }
        case "And": return { $0[0] != 0 && $0[1] != 0 ? 1 : 0 }
        case "Or": return { $0[0] != 0 || $0[1] != 0 ? 1 : 0 }
        case "Xor": return { ($0[0] != 0) != ($0[1] != 0) ? 1 : 0 }
        case "Mod":
            return { a in fmod ? a[0].truncatingRemainder(dividingBy: a[1]) : a[0] - a[1] * (a[0] / a[1]).rounded(.down) }
        default: return nil
        }
    }
}
