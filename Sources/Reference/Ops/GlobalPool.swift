/// GlobalAveragePool / GlobalMaxPool over all spatial positions of (N, C, spatial…);
/// output (N, C, 1, …, 1). VJP: g/S to every position, or g to the first maximum.
struct GlobalPool: Kernel {
    let isMax: Bool
    let planes: Int
    let spatial: Int
    let shape: [Int]

    static func make(_ c: KernelContext, isMax: Bool) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard x.count >= 3 else { throw c.fail("needs an (N, C, spatial…) input, got \(x)") }
        return GlobalPool(isMax: isMax, planes: x[0] * x[1], spatial: x.dropFirst(2).reduce(1, *),
                          shape: [x[0], x[1]] + Array(repeating: 1, count: x.count - 2))
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        var y = [Float](repeating: 0, count: planes)
        for p in 0..<planes {
            let base = p * spatial
            if isMax {
                var m = -Float.infinity
                for s in 0..<spatial { m = max(m, x.data[base + s]) }
                y[p] = m
            } else {
                var sum: Float = 0
                for s in 0..<spatial { sum += x.data[base + s] }
                y[p] = sum / Float(spatial)
            }
        }
        return [Value(shape: shape, data: y)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let x = a.inputs[0] else { return [nil] }
        let n = planes * spatial
        var g = [Float](repeating: 0, count: a.rows * n)
        var at = [Int](repeating: 0, count: planes)
        if isMax {
            for p in 0..<planes {
                var best = -Float.infinity
                for s in 0..<spatial where x.data[p * spatial + s] > best || s == 0 {
                    best = x.data[p * spatial + s]
                    at[p] = s
                }
            }
        }
        for r in 0..<a.rows {
            for p in 0..<planes {
                let v = a.grad[r * planes + p]
                if isMax { g[r * n + p * spatial + at[p]] = v } else {
                    let s = v / Float(spatial)
                    for i in 0..<spatial { g[r * n + p * spatial + i] = s }
                }
            }
        }
        return [g]
    }
}

enum GlobalMaxPool {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try GlobalPool.make(c, isMax: true) }
}

enum GlobalAveragePool {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try GlobalPool.make(c, isMax: false) }
}
