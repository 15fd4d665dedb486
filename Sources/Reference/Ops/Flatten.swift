/// Flatten(axis = 1): (d₀…d_{a−1}) × (d_a…) as a 2-D tensor.
enum Flatten {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let a = c.node.int("axis") ?? 1
        let axis = a < 0 ? a + x.count : a
        guard axis >= 0, axis <= x.count else { throw c.fail("axis \(a) is out of range for rank \(x.count)") }
        return ReshapeKernel(shape: [x[..<axis].reduce(1, *), x[axis...].reduce(1, *)])
    }
}
