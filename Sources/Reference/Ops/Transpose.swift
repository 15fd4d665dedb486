import ONNX

/// Transpose(perm, default reversed axes): output axis a is input axis perm[a].
enum Transpose {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let perm = c.node.ints("perm") ?? Array(x.indices.reversed())
        guard perm.count == x.count, Set(perm) == Set(x.indices) else {
            throw c.fail("perm \(perm) is not a permutation of \(x.count) axes")
        }
        let strides = Shapes.strides(x)
        let table = IndexTable.build(perm.map { p in (0..<x[p]).map { $0 * strides[p] } })
        return TableKernel(shape: perm.map { x[$0] }, table: table, inCount: x.reduce(1, *))
    }
}
