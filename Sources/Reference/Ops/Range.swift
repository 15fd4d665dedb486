import Foundation
import ONNX

/// Range(start, limit, delta) of scalars: n = max(⌈(limit − start)/delta⌉, 0) elements
/// start + i·delta, typed as start (integers exact). The operands are read at run time, so
/// the length follows them. VJP: d start = Σᵢ gᵢ, d delta = Σᵢ i·gᵢ, d limit = 0 (the
/// length is piecewise constant).
struct Range: Kernel {
    let node: String

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        for i in 0..<3 where try c.shape(i).reduce(1, *) != 1 { throw c.fail("input \(i) must be a scalar") }
        return Range(node: c.name)
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let s = inputs[0], let l = inputs[1]?.data.first, let d = inputs[2]?.data.first, let start = s.data.first else { return [] }
        guard d != 0 else { throw .badNode(node: node, op: "Range", reason: "delta is 0") }
        let span = (Double(l) - Double(start)) / Double(d)
        guard span.isFinite, span < Double(Engine.maxElements) else {
            throw .badNode(node: node, op: "Range", reason: "\(start)…\(l) by \(d) has too many elements")
        }
        let n = max(Int(span.rounded(.up)), 0)
        let y = (0..<n).map { Float(Double(start) + Double($0) * Double(d)) }
        return [Value(shape: [n], data: y, dtype: s.dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let n = a.outputs[0].count
        var ds = [Float](repeating: 0, count: a.rows), dd = ds
        for r in 0..<a.rows {
            for i in 0..<n { ds[r] += a.grad[r * n + i]; dd[r] += Float(i) * a.grad[r * n + i] }
        }
        return [a.wants[0] ? ds : nil, a.wants[1] ? .zeros(a.rows) : nil, a.wants[2] ? dd : nil]
    }
}
