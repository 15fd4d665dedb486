import ONNX

/// Hardmax: 1 at the first maximal element along the reduced axis, 0 elsewhere (the input's
/// type). Opset ≥ 13: one axis (default −1); before: the input coerced to 2-D at `axis`
/// (default 1), the maximum taken over the flattened trailing block. Piecewise constant: no
/// gradient (zero cotangent).
struct Hardmax: Kernel {
    let outer: Int, n: Int, inner: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        if c.opset >= 13 {
            let a = try c.axis(c.node.int("axis") ?? -1, rank: max(x.count, 1))
            guard a < x.count else { return Hardmax(outer: 1, n: 1, inner: 1) }
            return Hardmax(outer: x[..<a].reduce(1, *), n: x[a], inner: x[(a + 1)...].reduce(1, *))
        }
        let raw = c.node.int("axis") ?? 1
        let a = raw < 0 ? raw + x.count : raw
        guard a >= 0, a <= x.count else { throw c.fail("axis \(raw) is out of range for rank \(x.count)") }
        return Hardmax(outer: x[..<a].reduce(1, *), n: x[a...].reduce(1, *), inner: 1)
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        var y = [Float](repeating: 0, count: x.count)
        guard n > 0 else { return [Value(shape: x.shape, data: y, dtype: x.dtype)] }
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var at = 0
                for j in 1..<n where x.data[base + j * inner] > x.data[base + at * inner] { at = j }
                y[base + at * inner] = 1
            }
        }
        return [Value(shape: x.shape, data: y, dtype: x.dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        [a.wants[0] ? .zeros(a.grad.count) : nil]
    }
}
