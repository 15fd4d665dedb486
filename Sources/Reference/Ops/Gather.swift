/// Gather(axis = 0) with constant indices: out = data[..., indices, ...], output shape
/// data[:axis] + indices.shape + data[axis+1:]; negative indices count from the end.
enum Gather {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard let ind = try c.constant(1) else { throw c.fail("missing indices") }
        let axis = try c.axis(c.node.int("axis") ?? 0, rank: x.count)
        var idx: [Int] = []
        for v in ind.int64s() {
            let i = Int(clamping: v)
            let j = i < 0 ? i + x[axis] : i
            guard j >= 0, j < x[axis] else { throw c.fail("index \(i) is out of range for extent \(x[axis])") }
            idx.append(j)
        }
        var maps = x.map { Array(0..<$0) }
        maps[axis] = idx
        let shape = Array(x[..<axis]) + ind.dims + Array(x[(axis + 1)...])
        return TableKernel(inShape: x, maps: maps, shape: shape)
    }
}
