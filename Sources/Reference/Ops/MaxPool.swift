/// MaxPool (kernel_shape, strides, pads/auto_pad, dilations, ceil_mode) over (N, C, spatial…);
/// padding never wins. The optional Indices output (INT64) is the flat index of each
/// maximum in X (storage_order 0, row-major over all of X). VJP: each output's cotangent
/// goes to its window's first maximum (recomputed from the saved input), accumulated where
/// windows overlap; Indices carry no gradient.
struct MaxPool: Kernel {
    let windows: WindowTable
    let shape: [Int]
    let planes: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        if c.node.int("storage_order") == 1 { throw c.fail("storage_order = 1 is not supported") }
        let g = try c.poolGeometry(x)
        return MaxPool(windows: WindowTable(g), shape: [x[0], x[1]] + g.output, planes: x[0] * x[1])
    }

    /// The input offset of each output's maximum (−1 for an empty window).
    func argmax(_ x: [Float]) -> [Int] {
        var idx = [Int](repeating: -1, count: planes * windows.outSpatial)
        for p in 0..<planes {
            let ib = p * windows.inSpatial, ob = p * windows.outSpatial
            for o in 0..<windows.outSpatial {
                var best = -Float.infinity, at = -1
                for t in Int(windows.starts[o])..<Int(windows.starts[o + 1]) {
                    let i = ib + Int(windows.taps[t])
                    if at < 0 || x[i] > best { best = x[i]; at = i }
                }
                idx[ob + o] = at
            }
        }
        return idx
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        let idx = argmax(x.data)
        return [Value(shape: shape, data: idx.map { $0 < 0 ? 0 : x.data[$0] }, dtype: x.dtype),
                Value(shape: shape, data: idx.map { Float(max($0, 0)) }, dtype: .int64)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let x = a.inputs[0] else { return [nil] }
        let idx = argmax(x.data)
        let inCount = x.count, outCount = idx.count
        var g = [Float](repeating: 0, count: a.rows * inCount)
        for r in 0..<a.rows {
            for o in 0..<outCount where idx[o] >= 0 { g[r * inCount + idx[o]] += a.grad[r * outCount + o] }
        }
        return [g]
    }
}
