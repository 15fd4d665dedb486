import ONNX

/// Reshape to a constant shape (0 copies the input dimension unless `allowzero`, one −1
/// is inferred).
enum Reshape {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let target: [Int]
        if c.opset < 5 {
            guard let s = c.node.ints("shape") else { throw c.fail("missing attribute 'shape'") }
            target = s
        } else {
            guard let s = try c.constantInts(1) else { throw c.fail("missing shape input") }
            target = s
        }
        guard let shape = Shapes.reshape(x, to: target, allowZero: c.node.int("allowzero") == 1) else {
            throw c.fail("cannot reshape \(x) to \(target)")
        }
        return ReshapeKernel(shape: shape)
    }
}
