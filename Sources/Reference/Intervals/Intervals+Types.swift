import Foundation
import ONNX
import Sensitivity

/// Type conversions and quantization.
/// - **Cast / CastLike** to a float type: the identity (float16: every value rounded to the
///   nearest half is within 2⁻¹¹ relative plus 2⁻²⁵ absolute, widened by twice that; beyond
///   ±65504 it may be ±∞; bfloat16: 2⁻⁸ relative); to an integer type: [⌊lo⌋, ⌈hi⌉] (truncation
///   and rounding both lie there; the evaluator keeps the type's range); to bool: 0 or 1 when
///   the interval excludes or is 0.
/// - **QuantizeLinear** y = saturate(round(x/s) + z) with positive or negative scales: round
///   is non-decreasing, so the rounded endpoints of x/s (interval division) bound it, clamped
///   to the output type (zero point's type, `output_dtype`, else UINT8); per tensor, per axis
///   or blocked parameters. Float8 outputs: no rule.
/// - **DequantizeLinear** y = (x − z)·s, interval arithmetic per element.
/// - **DynamicQuantizeLinear**: y and its zero point are UINT8 (their range); the scale
///   (max(0, max x) − min(0, min x))/255 is monotone in the extremes.
enum TypeRules {
    static let rules: [String: IntervalRule] = [
        "Cast": { c throws(ReferenceError) in cast(c, to: c.node.int("to").flatMap { DataType(rawValue: Int32($0)) }) },
        "CastLike": { c throws(ReferenceError) in cast(c, to: c.dtypes.count > 1 ? c.dtypes[1] : nil) },
        "QuantizeLinear": quantize, "DequantizeLinear": dequantize, "DynamicQuantizeLinear": dynamicQuantize,
    ]

    static func cast(_ c: IntervalNode, to target: DataType?) -> [TensorBounds?] {
        guard let x = c.bounds(0), let target else { return [] }
        switch target {
        case .float, .double: return [x]
        case .float16: return [widened(x, relative: 0x1p-10, absolute: 0x1p-24, limit: 65504)]
        case .bfloat16: return [widened(x, relative: 0x1p-7, absolute: 0x1p-132, limit: Double(Float.greatestFiniteMagnitude))]
        case .bool:
            return [TensorBounds(shape: x.shape, count: x.count) { i in
                let v = x.interval(i)
                return v.lo == 0 && v.hi == 0 ? Interval(point: 0) : (v.containsZero ? .unit : Interval(point: 1))
            }]
        default:
            guard IntervalRun.typeRange(target) != nil else { return [] }
            return [TensorBounds(shape: x.shape, lo: x.lo.map { $0.rounded(.down) }, hi: x.hi.map { $0.rounded(.up) })]
        }
    }

    /// Bounds after rounding to a narrower float format with unit roundoff ≤ relative/2.
    static func widened(_ x: TensorBounds, relative: Double, absolute: Double, limit: Double) -> TensorBounds {
        TensorBounds(shape: x.shape, count: x.count) { i in
            let l = Double(x.lo[i]), h = Double(x.hi[i])
            let lo = l < -limit ? -.infinity : l - abs(l) * relative - absolute
            let hi = h > limit ? .infinity : h + abs(h) * relative + absolute
            return Interval(lo, hi)
        }
    }

    /// Element → parameter offset for per-tensor, per-axis and blocked scales.
    static func layout(_ shape: [Int], _ param: [Int], axis a: Int, block: Int) -> ((Int) -> Int)? {
        let count = param.reduce(1, *)
        if block <= 0 && count == 1 { return { _ in 0 } }
        guard let axis = Shapes.axis(a, rank: max(shape.count, 1)), axis < shape.count else { return nil }
        let strides = Shapes.strides(shape), extent = shape[axis]
        if block <= 0 {
            guard count == extent else { return nil }
            return { ($0 / strides[axis]) % extent }
        }
        var expected = shape
        expected[axis] = (extent + block - 1) / block
        guard param == expected else { return nil }
        let ps = Shapes.strides(param)
        return { i in
            var off = 0, r = i
            for d in shape.indices {
                let coord = r / strides[d]
                r %= strides[d]
                off += (d == axis ? coord / block : coord) * ps[d]
            }
            return off
        }
    }

    static let quantize: IntervalRule = { c throws(ReferenceError) in
        guard let x = c.bounds(0), let s = c.bounds(1) else { return [] }
        let z = c.has(2) ? c.bounds(2) : nil
        if c.has(2) && z == nil { return [] }
        let outType = (c.has(2) ? c.dtypes[2] : nil) ?? c.node.int("output_dtype").flatMap { DataType(rawValue: Int32($0)) } ?? .uint8
        guard let (qmin, qmax) = IntervalRun.typeRange(outType),
              let index = layout(x.shape, s.shape, axis: c.node.int("axis") ?? 1, block: c.node.int("block_size") ?? 0) else { return [] }
        return [TensorBounds(shape: x.shape, count: x.count) { i in
            let q = x.interval(i) / s.interval(index(i))
            var y = Interval(q.lo.rounded(.toNearestOrEven), q.hi.rounded(.toNearestOrEven))
            if let z { y = y + z.interval(index(i)) }
            return Interval(min(max(y.lo, Double(qmin)), Double(qmax)), min(max(y.hi, Double(qmin)), Double(qmax)))
        }]
    }

    static let dequantize: IntervalRule = { c throws(ReferenceError) in
        guard let x = c.bounds(0), let s = c.bounds(1) else { return [] }
        let z = c.has(2) ? c.bounds(2) : nil
        if c.has(2) && z == nil { return [] }
        guard let index = layout(x.shape, s.shape, axis: c.node.int("axis") ?? 1, block: c.node.int("block_size") ?? 0) else { return [] }
        return [TensorBounds(shape: x.shape, count: x.count) { i in
            let v = z.map { x.interval(i) - $0.interval(index(i)) } ?? x.interval(i)
            return v * s.interval(index(i))
        }]
    }

    static let dynamicQuantize: IntervalRule = { c throws(ReferenceError) in
        guard let x = c.bounds(0) else { return [] }
        let maxLo = max(0, Double(x.lo.max() ?? 0)), maxHi = max(0, Double(x.hi.max() ?? 0))
        let minLo = min(0, Double(x.lo.min() ?? 0)), minHi = min(0, Double(x.hi.min() ?? 0))
        let spread = Interval(Outward.addDown(maxLo, -minHi), Outward.addUp(maxHi, -minLo))
        let scale = spread / Interval(point: 255)
        return [nil, TensorBounds(shape: [], count: 1) { _ in scale }, nil]
    }
}
