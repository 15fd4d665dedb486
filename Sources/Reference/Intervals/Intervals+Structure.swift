import Foundation
import ONNX
import Sensitivity

/// Shape arithmetic, selection by indices, and the If merge.
/// - Shape, Size: points (the shape is static); ConstantOfShape: the point `value` over a
///   known shape; Range with known start, limit and delta: points (float32 types widened by
///   2⁻²³ relative for the kernel's rounding of start + i·delta).
/// - Gather with indices known exactly: data movement (``KernelRules``); with bounded indices
///   (a token id input): every output element is some data element on the gathered axis, so
///   the hull over the indices' possible range of that axis, per position of the other axes
///   (an embedding lookup gets the column ranges of its table). GatherElements, GatherND with
///   unknown indices: the hull of the whole data tensor.
/// - ScatterElements, ScatterND (reduction none, max, min) with exact indices: every output
///   element is a data or an update element, or their max/min: monotone in both.
/// - OneHot with known values: the hull of {off, on}.
/// - The If merge (domain kappa): output k is branch output k of the taken branch: that one when
///   the condition is a point, else the union of both.
enum StructureRules {
    static let rules: [String: IntervalRule] = [
        "Shape": shape, "Size": size, "ConstantOfShape": constantOfShape, "Range": range,
        "Gather": gather, "GatherElements": gatherHull, "GatherND": gatherHull,
        "ScatterElements": scatter, "ScatterND": scatter, "OneHot": oneHot,
    ]

    static func point(_ shape: [Int], _ values: [Float]) -> TensorBounds { TensorBounds(shape: shape, lo: values, hi: values) }

    static let shape: IntervalRule = { c throws(ReferenceError) in
        guard let s = c.shape(0) else { return [] }
        let r = s.count
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + r : v, 0), r) }
        let start = clamp(c.node.int("start") ?? 0), end = clamp(c.node.int("end") ?? r)
        let dims = start < end ? Array(s[start..<end]) : []
        return [point([dims.count], dims.map { Float($0) })]
    }

    static let size: IntervalRule = { c throws(ReferenceError) in
        guard let s = c.shape(0) else { return [] }
        return [point([], [Float(s.reduce(1, *))])]
    }

    static let constantOfShape: IntervalRule = { c throws(ReferenceError) in
        guard let dims = c.pointInts(0), dims.allSatisfy({ $0 >= 0 }), let n = Shapes.checkedProduct(dims) else { return [] }
        if n > Engine.maxElements { throw .tooLarge(tensor: c.node.outputs.first ?? c.name, elements: n) }
        let v = c.node.tensor("value").map(IntervalNode.point)
        guard v == nil || v?.count == 1 else { return [] }
        return [TensorBounds(shape: dims, lo: v?.lo[0] ?? 0, hi: v?.hi[0] ?? 0)]
    }

    static let range: IntervalRule = { c throws(ReferenceError) in
        guard let s = c.point(0)?.first, let l = c.point(1)?.first, let d = c.point(2)?.first, d != 0 else { return [] }
        let steps = ((Double(l) - Double(s)) / Double(d)).rounded(.up)
        guard steps.isFinite else { return [] }
        guard steps <= Double(Engine.maxElements) else { throw .tooLarge(tensor: c.node.outputs.first ?? c.name, elements: Int(clamping: Int64(min(steps, 9e18)))) }
        let count = steps <= 0 ? 0 : Int(steps)
        let float = c.dtype(0).isFloatingPoint
        return [TensorBounds(shape: [count], count: count) { i in
            let v = Double(s) + Double(i) * Double(d)
            return float ? Interval(v - abs(v) * 0x1p-23 - 0x1p-140, v + abs(v) * 0x1p-23 + 0x1p-140) : Interval(point: v)
        }]
    }

    static let gather: IntervalRule = { c throws(ReferenceError) in
        if c.point(1) != nil { return try KernelRules.monotone(c, margin: .exact) }
        guard let x = c.bounds(0), let ind = c.bounds(1), !x.shape.isEmpty else { return [] }
        let a = c.node.int("axis") ?? 0
        guard let axis = Shapes.axis(a, rank: x.shape.count) else { throw c.fail("axis \(a) is out of range") }
        let (outer, n, inner) = ReduceRules.lines(x.shape, axis)
        // The rows the indices can reach (negative ones count from the end: then all rows).
        let lo = ind.lo.min().map(Double.init) ?? 0, hi = ind.hi.max().map(Double.init) ?? 0
        var first = 0, last = n - 1
        if lo >= 0, hi.isFinite {
            first = lo >= Double(n) ? n : Int(lo)
            last = hi >= Double(n - 1) ? n - 1 : Int(hi)
        }
        guard n > 0, first <= last else { return [] }
        let rows = first...last
        var hullLo = [Float](repeating: .infinity, count: outer * inner), hullHi = [Float](repeating: -.infinity, count: outer * inner)
        for o in 0..<outer {
            for r in rows {
                for i in 0..<inner {
                    let j = (o * n + r) * inner + i
                    hullLo[o * inner + i] = min(hullLo[o * inner + i], x.lo[j])
                    hullHi[o * inner + i] = max(hullHi[o * inner + i], x.hi[j])
                }
            }
        }
        let shape = Array(x.shape[..<axis]) + ind.shape + Array(x.shape[(axis + 1)...])
        let k = ind.count
        return [TensorBounds(shape: shape, count: outer * k * inner) { e in
            let o = e / (k * inner), i = e % inner
            return Interval(Double(hullLo[o * inner + i]), Double(hullHi[o * inner + i]))
        }]
    }

    static let gatherHull: IntervalRule = { c throws(ReferenceError) in
        let moved = try KernelRules.monotone(c, margin: .exact)
        if !moved.isEmpty { return moved }
        guard let x = c.bounds(0), let s = c.outShapes.first ?? nil else { return [] }
        return [TensorBounds(shape: s, lo: x.lo.min() ?? -.infinity, hi: x.hi.max() ?? .infinity)]
    }

    static let scatter: IntervalRule = { c throws(ReferenceError) in
        guard ["none", "max", "min"].contains(c.node.string("reduction") ?? "none") else { return [] }
        return try KernelRules.monotone(c, data: [0, 2], margin: .exact)
    }

    static let oneHot: IntervalRule = { c throws(ReferenceError) in
        guard let v = c.point(2), v.count == 2, let s = c.outShapes.first ?? nil else { return [] }
        return [TensorBounds(shape: s, lo: min(v[0], v[1]), hi: max(v[0], v[1]))]
    }

    /// The kappa-domain merge of an If with a computed condition.
    static let ifMerge: IntervalRule = { c throws(ReferenceError) in
        let k = c.node.outputs.count
        guard c.node.inputs.count == 1 + 2 * k else { throw c.fail("If merge with \(c.node.inputs.count) inputs for \(k) outputs") }
        let cond = c.bounds(0)
        let decided = cond.flatMap { $0.count >= 1 && $0.lo[0] == $0.hi[0] ? $0.lo[0] != 0 : nil }
        return (0..<k).map { j in
            let t = c.bounds(1 + j), e = c.bounds(1 + k + j)
            switch decided {
            case true?: return t
            case false?: return e
            case nil:
                guard let t, let e, t.shape == e.shape else { return nil }
                return t.union(e)
            }
        }
    }
}
