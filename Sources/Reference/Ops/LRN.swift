import Foundation

/// LRN across channels (size n, α = 1e-4, β = 0.75, bias k = 1), x (N, C, spatial…):
/// d_c = k + (α/n)·Σ_{c′ ∈ win(c)} x_{c′}², win(c) = [c − ⌊(n−1)/2⌋, c + ⌈(n−1)/2⌉] ∩ [0, C),
/// y_c = x_c·d_c^(−β).
/// VJP: dx_j = g_j·d_j^(−β) − (2αβ/n)·x_j·Σ_{c : j ∈ win(c)} g_c·x_c·d_c^(−β−1).
struct LRN: Kernel {
    let size: Int, alpha: Float, beta: Float, bias: Float
    let shape: [Int]
    var lo: Int { (size - 1) / 2 }
    var hi: Int { size / 2 }

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard x.count >= 2 else { throw c.fail("input \(x) has no channel axis") }
        guard let size = c.node.int("size"), size >= 1 else { throw c.fail("missing or invalid attribute 'size'") }
        return LRN(size: size, alpha: c.node.float("alpha") ?? 1e-4, beta: c.node.float("beta") ?? 0.75,
                   bias: c.node.float("bias") ?? 1, shape: x)
    }

    /// d for every element.
    func denominators(_ x: [Float]) -> [Float] {
        let ch = shape[1], spatial = shape.dropFirst(2).reduce(1, *)
        var d = [Float](repeating: 0, count: x.count)
        let s = alpha / Float(size)
        for n in 0..<shape[0] {
            for c in 0..<ch {
                let base = (n * ch + c) * spatial
                for p in 0..<spatial {
                    var sum: Float = 0
                    for cc in max(0, c - lo)...min(ch - 1, c + hi) {
                        let v = x[(n * ch + cc) * spatial + p]
                        sum += v * v
                    }
                    d[base + p] = bias + s * sum
                }
            }
        }
        return d
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        let d = denominators(x.data)
        var y = x.data
        for i in y.indices { y[i] *= powf(d[i], -beta) }
        return [Value(shape: shape, data: y)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let xv = a.inputs[0] else { return [nil] }
        let x = xv.data
        let d = denominators(x)
        let total = x.count, ch = shape[1], spatial = shape.dropFirst(2).reduce(1, *)
        var dPow = d, dPow1 = d
        for i in d.indices { dPow[i] = powf(d[i], -beta); dPow1[i] = dPow[i] / d[i] }
        let coef = 2 * alpha * beta / Float(size)
        var out = [Float](repeating: 0, count: a.rows * total)
        var t = [Float](repeating: 0, count: total)
        for r in 0..<a.rows {
            let o = r * total
            for i in 0..<total { t[i] = a.grad[o + i] * x[i] * dPow1[i] }
            for n in 0..<shape[0] {
                for j in 0..<ch {
                    let base = (n * ch + j) * spatial
                    for p in 0..<spatial {
                        var sum: Float = 0
                        for c in max(0, j - hi)...min(ch - 1, j + lo) { sum += t[(n * ch + c) * spatial + p] }
                        let i = base + p
                        out[o + i] = a.grad[o + i] * dPow[i] - coef * x[i] * sum
                    }
                }
            }
        }
        return [out]
    }
}
