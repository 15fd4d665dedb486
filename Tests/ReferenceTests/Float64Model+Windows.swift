import Foundation
import ONNX

/// Convolution, pooling, softmax and reductions of the float64 reference (any spatial rank).
extension Float64Model {
    func flat(_ idx: [Int], _ shape: [Int]) -> Int { zip(idx, Shapes.strides(shape)).reduce(0) { $0 + $1.0 * $1.1 } }

    func conv(_ n: Node, _ x: T, _ w: T, _ b: T?) throws -> T {
        let geo = try WindowGeometry.resolve(node: n, input: Array(x.s[2...]), kernel: Array(w.s[2...]), path: "")
        let groups = n.int("group") ?? 1
        let (batch, m, cg) = (x.s[0], w.s[0], w.s[1])
        let out = [batch, m] + geo.output
        let taps = indices(Array(w.s[2...]))
        let xs = Shapes.strides(x.s), ws = Shapes.strides(w.s)
        let tapOffsets = taps.map { t in t.indices.reduce(0) { $0 + t[$1] * ws[2 + $1] } }
        return T(v: indices(out).map { o in
            let gi = o[1] / (m / groups)
            var s = b?.v[o[1]] ?? 0
            for (t, tw) in zip(taps, tapOffsets) {
                var off = 0, inside = true
                for a in t.indices {
                    let q = o[2 + a] * geo.strides[a] + t[a] * geo.dilations[a] - geo.padsBegin[a]
                    if q < 0 || q >= x.s[2 + a] { inside = false; break }
                    off += q * xs[2 + a]
                }
                guard inside else { continue }
                for cl in 0..<cg {
                    s += w.v[o[1] * ws[0] + cl * ws[1] + tw] * x.v[o[0] * xs[0] + (gi * cg + cl) * xs[1] + off]
                }
            }
            return s
        }, s: out)
    }

    func pool(_ n: Node, _ x: T) throws -> T {
        if n.opType.hasPrefix("Global") {
            let sp = x.s.dropFirst(2).reduce(1, *)
            return T(v: (0..<(x.v.count / max(sp, 1))).map { p in
                let part = x.v[(p * sp)..<((p + 1) * sp)]
                return n.opType == "GlobalMaxPool" ? (part.max() ?? -.infinity) : part.reduce(0, +) / Double(sp)
            }, s: Array(x.s[..<2]) + x.s.dropFirst(2).map { _ in 1 })
        }
        let kernel = n.ints("kernel_shape") ?? []
        let geo = try WindowGeometry.resolve(node: n, input: Array(x.s[2...]), kernel: kernel, ceilMode: n.int("ceil_mode") == 1, path: "")
        let isMax = n.opType.hasSuffix("MaxPool"), includePad = n.int("count_include_pad") == 1
        let out = Array(x.s[..<2]) + geo.output
        let taps = indices(kernel)
        return T(v: indices(out).map { o in
            var best = -Double.infinity, sum = 0.0, count = 0, padded = 0
            for t in taps {
                var p: [Int] = [], inPad = true
                for a in t.indices {
                    let q = o[2 + a] * geo.strides[a] + t[a] * geo.dilations[a] - geo.padsBegin[a]
                    if q < -geo.padsBegin[a] || q >= x.s[2 + a] + geo.padsEnd[a] { inPad = false }
                    if q >= 0 && q < x.s[2 + a] { p.append(q) }
                }
                if inPad { padded += 1 }
                guard p.count == t.count else { continue }
                let v = x.v[flat(Array(o[..<2]) + p, x.s)]
                best = max(best, v); sum += v; count += 1
            }
            return isMax ? best : sum / Double(includePad ? padded : max(count, 1))
        }, s: out)
    }

    func alongAxes(_ n: Node, _ ins: [T?], _ x: T) throws -> T {
        let r = x.s.count, op = n.opType
        if op == "Softmax" || op == "LogSoftmax" || op == "CumSum" {
            let opset = g.model.opsets[""] ?? 17
            let a = op == "CumSum" ? Int(ins[1]?.v.first ?? 0) : (n.int("axis") ?? (opset >= 13 ? -1 : 1))
            let axis = Shapes.axis(a, rank: r) ?? 0
            let coerced = op != "CumSum" && opset < 13
            let (outer, k, inner) = coerced ? (x.s[..<axis].reduce(1, *), x.s[axis...].reduce(1, *), 1)
                : (x.s[..<axis].reduce(1, *), x.s[axis], x.s[(axis + 1)...].reduce(1, *))
            var v = x.v
            for o in 0..<outer { for i in 0..<inner {
                let at = (0..<k).map { (o * k + $0) * inner + i }
                let line = at.map { x.v[$0] }
                if op == "CumSum" {
                    let exclusive = n.int("exclusive") == 1, reverse = n.int("reverse") == 1
                    var acc = 0.0
                    for jj in 0..<k {
                        let j = reverse ? k - 1 - jj : jj
                        if exclusive { v[at[j]] = acc; acc += line[j] } else { acc += line[j]; v[at[j]] = acc }
                    }
                    continue
                }
                let m = line.max() ?? 0, z = line.reduce(0) { $0 + exp($1 - m) }
                for j in 0..<k { v[at[j]] = op == "Softmax" ? exp(line[j] - m) / z : line[j] - m - log(z) }
            } }
            return T(v: v, s: x.s)
        }
        let given = n.ints("axes") ?? (ins.count > 1 ? ins[1]?.v.map { Int($0) } : nil)
        let listed = (given ?? []).map { Shapes.axis($0, rank: r) ?? 0 }
        let axes = Set(listed.isEmpty ? Array(0..<r) : listed)
        let keep = x.s.indices.map { axes.contains($0) ? 1 : x.s[$0] }
        var groups = [[Double]](repeating: [], count: keep.reduce(1, *))
        for (i, idx) in indices(x.s).enumerated() {
            groups[flat(idx.indices.map { axes.contains($0) ? 0 : idx[$0] }, keep)].append(x.v[i])
        }
        let v: [Double] = groups.map { e in
            switch op {
            case "ReduceSum": return e.reduce(0, +)
            case "ReduceMean": return e.reduce(0, +) / Double(e.count)
            case "ReduceMax": return e.max() ?? -.infinity
            case "ReduceMin": return e.min() ?? .infinity
            case "ReduceL1": return e.reduce(0) { $0 + abs($1) }
            case "ReduceL2": return e.reduce(0) { $0 + $1 * $1 }.squareRoot()
            case "ReduceSumSquare": return e.reduce(0) { $0 + $1 * $1 }
            case "ReduceLogSum": return log(e.reduce(0, +))
            case "ReduceProd": return e.reduce(1, *)
            default: let m = e.max() ?? 0; return m + log(e.reduce(0) { $0 + exp($1 - m) })
            }
        }
        let keepDims = (n.int("keepdims") ?? 1) != 0
        return T(v: v, s: keepDims ? keep : x.s.indices.filter { !axes.contains($0) }.map { x.s[$0] })
    }
}
