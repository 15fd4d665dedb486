/// Squeeze: drops the given axes (attribute before opset 13, constant input after),
/// or every axis of extent 1 when none are given.
enum Squeeze {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let given = c.opset < 13 ? c.node.ints("axes") : try c.constantInts(1)
        var drop = Set<Int>()
        if let given {
            for a in given {
                let v = try c.axis(a, rank: x.count)
                guard x[v] == 1 else { throw c.fail("cannot squeeze axis \(a) of extent \(x[v])") }
                drop.insert(v)
            }
        } else {
            drop = Set(x.indices.filter { x[$0] == 1 })
        }
        return ReshapeKernel(shape: x.indices.filter { !drop.contains($0) }.map { x[$0] })
    }
}
