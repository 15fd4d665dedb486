/// BatchNormalization (inference form): y = s_c·(x − μ_c) + β_c with s_c = γ_c/√(σ²_c + ε),
/// x (N, C, spatial…), statistics constant. VJP: dx = s_c·dy.
struct BatchNormalization: Kernel {
    let scale: [Float]
    let shift: [Float]
    let shape: [Int]

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard x.count >= 2 else { throw c.fail("input \(x) has no channel axis") }
        if c.node.int("training_mode") == 1 { throw c.fail("training_mode = 1 is not supported (inference only)") }
        guard let gamma = try c.constantFloats(1), let beta = try c.constantFloats(2),
              let mean = try c.constantFloats(3), let variance = try c.constantFloats(4) else {
            throw c.fail("needs scale, B, mean and var")
        }
        let ch = x[1]
        guard [gamma, beta, mean, variance].allSatisfy({ $0.count == ch }) else {
            throw c.fail("statistics do not have \(ch) values")
        }
        let eps = c.node.float("epsilon") ?? 1e-5
        var scale = [Float](repeating: 0, count: ch), shift = scale
        for i in 0..<ch {
            scale[i] = gamma[i] / (variance[i] + eps).squareRoot()
            shift[i] = beta[i] - scale[i] * mean[i]
        }
        return BatchNormalization(scale: scale, shift: shift, shape: x)
    }

    private func channelLoop(_ body: (_ base: Int, _ count: Int, _ c: Int) -> Void) {
        let ch = shape[1], spatial = shape.dropFirst(2).reduce(1, *)
        for n in 0..<shape[0] { for c in 0..<ch { body((n * ch + c) * spatial, spatial, c) } }
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        var y = x.data
        channelLoop { base, count, c in
            for i in base..<(base + count) { y[i] = scale[c] * y[i] + shift[c] }
        }
        return [Value(shape: shape, data: y)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        var g = a.grad
        let total = shape.reduce(1, *)
        for r in 0..<a.rows {
            channelLoop { base, count, c in
                for i in (r * total + base)..<(r * total + base + count) { g[i] *= scale[c] }
            }
        }
        return [g] + Array(repeating: nil, count: a.inputs.count - 1)
    }
}
