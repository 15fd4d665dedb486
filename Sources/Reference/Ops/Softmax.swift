import Foundation

/// Softmax and LogSoftmax along `axis` (opset ≥ 13: one axis, default −1; before: the
/// input coerced to 2-D at `axis`, default 1). Viewed as (outer, n, inner):
/// y = eˣ/Σeˣ, VJP dx = y ⊙ (g − ⟨g, y⟩); log form y = x − log Σeˣ, dx = g − softmax·Σg.
struct Softmax: Kernel {
    let outer: Int, n: Int, inner: Int
    let log: Bool

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, log: false) }
    static func makeLog(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try build(c, log: true) }

    static func build(_ c: KernelContext, log: Bool) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        if c.opset >= 13 {
            let a = try c.axis(c.node.int("axis") ?? -1, rank: max(x.count, 1))
            return Softmax(outer: x[..<a].reduce(1, *), n: x.isEmpty ? 1 : x[a], inner: x.count > a ? x[(a + 1)...].reduce(1, *) : 1, log: log)
        }
        let raw = c.node.int("axis") ?? 1
        let a = raw < 0 ? raw + x.count : raw
        guard a >= 0, a <= x.count else { throw c.fail("axis \(raw) is out of range for rank \(x.count)") }
        return Softmax(outer: x[..<a].reduce(1, *), n: x[a...].reduce(1, *), inner: 1, log: log)
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        var y = x.data
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var m = -Float.infinity
                for j in 0..<n { m = max(m, x.data[base + j * inner]) }
                var s: Float = 0
                for j in 0..<n { s += expf(x.data[base + j * inner] - m) }
                let ls = logf(s)
                for j in 0..<n {
                    let v = x.data[base + j * inner] - m
                    y[base + j * inner] = log ? v - ls : expf(v) / s
                }
            }
        }
        return [Value(shape: x.shape, data: y)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let y = a.outputs[0].data
        let count = y.count
        var g = a.grad
        for r in 0..<a.rows {
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * n * inner + i
                    var dot: Float = 0
                    for j in 0..<n {
                        let k = base + j * inner
                        dot += log ? g[r * count + k] : g[r * count + k] * y[k]
                    }
                    for j in 0..<n {
                        let k = base + j * inner
                        g[r * count + k] = log ? g[r * count + k] - expf(y[k]) * dot : y[k] * (g[r * count + k] - dot)
                    }
                }
            }
        }
        return [g]
    }
}
