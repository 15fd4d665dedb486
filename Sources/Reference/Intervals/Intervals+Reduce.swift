import Foundation
import ONNX
import Sensitivity

/// Reductions, scans and selections, in Double with directed rounding (no float32 kernel, so
/// no γ margin): each is monotone in every element or an interval-arithmetic expression of
/// independent elements.
/// - ReduceSum / ReduceMean: endpoint sums (divided by K); ReduceMax / ReduceMin: non-decreasing
///   in every element, exact; ReduceL1 = Σ|x|, ReduceSumSquare = Σx², ReduceL2 = √Σx² (on
///   [min|x|, max|x|] per element); ReduceLogSum = log Σx; ReduceLogSumExp: increasing, LSE(lo)
///   and LSE(hi) with the maximum shifted out; ReduceProd: the interval product.
/// - CumSum (exclusive, reverse): endpoint prefix sums.
/// - ArgMax / ArgMin: only elements whose interval reaches the best lower (upper) bound can win:
///   [first, last] of those; TopK values: the j-th largest (smallest) element is non-decreasing
///   in every element, so it lies between the j-th largest lower bound and the j-th largest
///   upper bound (unsorted output: the hull over j); TopK indices: [0, n − 1]; Hardmax: one-hot
///   when a single element can win, else [0, 1].
enum ReduceRules {
    enum Kind { case sum, mean, max, min, l1, l2, sumSquare, logSum, logSumExp, prod }

    /// Input element → output slot for reducing `axes` of `shape`, with the output shape.
    static func groups(_ shape: [Int], axes: Set<Int>, keepDims: Bool) -> (shape: [Int], table: [Int32], slots: Int) {
        let keep = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
        let strides = Shapes.strides(keep)
        let table = IndexTable.build(shape.indices.map { a in (0..<shape[a]).map { axes.contains(a) ? 0 : $0 * strides[a] } })
        let out = keepDims ? keep : shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
        return (out, table, keep.reduce(1, *))
    }

    static func rule(_ kind: Kind, axesInputFrom: Int) -> IntervalRule {
        { c throws(ReferenceError) in
            guard let x = c.bounds(0) else { return [] }
            var given: [Int]? = c.node.ints("axes")
            if c.opset >= axesInputFrom || c.has(1) {
                guard !c.has(1) || c.pointInts(1) != nil else { return [] }
                given = c.has(1) ? c.pointInts(1) : nil
            }
            var axes = Set<Int>()
            if let given, !given.isEmpty {
                for a in given {
                    guard let v = Shapes.axis(a, rank: x.shape.count) else { throw c.fail("axis \(a) is out of range for rank \(x.shape.count)") }
                    axes.insert(v)
                }
            } else if c.node.int("noop_with_empty_axes") == 1 {
                return [x]
            } else {
                axes = Set(x.shape.indices)
            }
            let (shape, table, slots) = groups(x.shape, axes: axes, keepDims: (c.node.int("keepdims") ?? 1) != 0)
            return [reduce(x, kind, table, slots, shape, k: axes.reduce(1) { $0 * x.shape[$1] })]
        }
    }

    static func reduce(_ x: TensorBounds, _ kind: Kind, _ table: [Int32], _ slots: Int, _ shape: [Int], k: Int) -> TensorBounds {
        let start: Interval
        switch kind {
        case .max: start = Interval(point: -.infinity)
        case .min: start = Interval(point: .infinity)
        case .prod: start = Interval(point: 1)
        default: start = Interval(point: 0)
        }
        var acc = [Interval](repeating: start, count: slots)
        var shift = [Double](repeating: -.infinity, count: 0)
        var shiftHi = shift
        if kind == .logSumExp {
            shift = [Double](repeating: -.infinity, count: slots)
            shiftHi = shift
            for i in 0..<x.count {
                let o = Int(table[i])
                shift[o] = max(shift[o], Double(x.lo[i]))
                shiftHi[o] = max(shiftHi[o], Double(x.hi[i]))
            }
        }
        for i in 0..<x.count {
            let o = Int(table[i]), v = x.interval(i)
            switch kind {
            case .sum, .mean, .logSum: acc[o] = acc[o] + v
            case .max: acc[o] = Interval(max(acc[o].lo, v.lo), max(acc[o].hi, v.hi))
            case .min: acc[o] = Interval(min(acc[o].lo, v.lo), min(acc[o].hi, v.hi))
            case .l1: acc[o] = acc[o] + Interval(v.mignitude, v.magnitude)
            case .l2, .sumSquare: acc[o] = acc[o] + v.square()
            case .prod: acc[o] = acc[o] * v
            case .logSumExp:
                // exp(x − m) with m the largest lower (upper) bound; −∞ − (−∞) contributes 0.
                let l = shift[o].isFinite ? Interval(point: Outward.addDown(v.lo, -shift[o])).exp().lo : 0
                let h = shiftHi[o].isFinite ? Interval(point: Outward.addUp(v.hi, -shiftHi[o])).exp().hi : .infinity
                acc[o] = acc[o] + Interval(l, h)
            }
        }
        return TensorBounds(shape: shape, count: slots) { o in
            let a = acc[o]
            switch kind {
            case .mean: return a / Interval(point: Double(max(k, 1)))
            case .l2: return a.sqrt()
            case .logSum: return a.log()
            case .logSumExp:
                let lo = shift[o].isFinite ? Outward.addDown(Interval(point: a.lo).log().lo, shift[o]) : shift[o]
                let hi = shiftHi[o].isFinite ? Outward.addUp(Interval(point: a.hi).log().hi, shiftHi[o]) : shiftHi[o]
                return Interval(lo, hi)
            default: return a
            }
        }
    }

    static let rules: [String: IntervalRule] = [
        "ReduceSum": rule(.sum, axesInputFrom: 13), "ReduceMean": rule(.mean, axesInputFrom: 18),
        "ReduceMax": rule(.max, axesInputFrom: 18), "ReduceMin": rule(.min, axesInputFrom: 18),
        "ReduceL1": rule(.l1, axesInputFrom: 18), "ReduceL2": rule(.l2, axesInputFrom: 18),
        "ReduceSumSquare": rule(.sumSquare, axesInputFrom: 18), "ReduceLogSum": rule(.logSum, axesInputFrom: 18),
        "ReduceLogSumExp": rule(.logSumExp, axesInputFrom: 18), "ReduceProd": rule(.prod, axesInputFrom: 18),
        "CumSum": cumSum, "ArgMax": argBest(max: true), "ArgMin": argBest(max: false), "TopK": topK, "Hardmax": hardmax,
    ]

    /// (outer, n, inner) of `shape` around `axis`.
    static func lines(_ shape: [Int], _ axis: Int) -> (Int, Int, Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    static let cumSum: IntervalRule = { c throws(ReferenceError) in
        guard let x = c.bounds(0), let a = c.pointInts(1)?.first else { return [] }
        guard let axis = Shapes.axis(a, rank: x.shape.count) else { throw c.fail("axis \(a) is out of range") }
        let exclusive = c.node.int("exclusive") == 1, reverse = c.node.int("reverse") == 1
        let (outer, n, inner) = lines(x.shape, axis)
        var out = x
        for o in 0..<outer {
            for i in 0..<inner {
                var s = Interval(point: 0)
                for step in 0..<n {
                    let j = (o * n + (reverse ? n - 1 - step : step)) * inner + i
                    let v = x.interval(j)
                    if !exclusive { s = s + v }
                    (out.lo[j], out.hi[j]) = s.floats
                    if exclusive { s = s + v }
                }
            }
        }
        return [out]
    }
}
