import ONNX

/// Expand(X, shape): X broadcast against the constant `shape` (bidirectionally, numpy
/// rules: `shape` may have a smaller rank or 1s, which keep X's extent). A gather whose VJP
/// sums the cotangent over the broadcast axes.
enum Expand {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard let target = try c.constantInts(1) else { throw c.fail("missing shape input") }
        guard target.allSatisfy({ $0 >= 0 }), let out = Shapes.broadcast(x, target) else {
            throw c.fail("input \(x) does not broadcast to \(target)")
        }
        return TableKernel(shape: out, table: IndexTable.broadcast(x, to: out), inCount: x.reduce(1, *))
    }
}
