/// Unsqueeze: inserts axes of extent 1 at the given positions of the output
/// (attribute before opset 13, constant input after; the attribute also at any opset, as the
/// flattener writes the Unsqueeze nodes that stack scan outputs).
enum Unsqueeze {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        var given = c.node.ints("axes")
        if given == nil, c.opset >= 13 { given = try c.constantInts(1) }
        guard let axes = given else {
            throw c.fail("missing axes")
        }
        let r = x.count + axes.count
        var inserted = Set<Int>()
        for a in axes {
            guard inserted.insert(try c.axis(a, rank: r)).inserted else { throw c.fail("axis \(a) repeated") }
        }
        var out: [Int] = []
        var it = x.makeIterator()
        for i in 0..<r { out.append(inserted.contains(i) ? 1 : (it.next() ?? 1)) }
        return ReshapeKernel(shape: out)
    }
}
