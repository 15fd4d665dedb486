import ONNX

/// LayerNormalization(X, Scale, B?; axis = −1, epsilon = 1e-5; stash_type is ignored, the
/// statistics are accumulated in double): normalizes over the axes [axis, rank) — every index of
/// the leading axes is one block — with Scale and B broadcast to the normalized shape
/// X.shape[axis…] (numpy rules). Outputs Y, and optionally Mean and InvStdDev shaped
/// X.shape[..<axis] + [1, …]. Math and VJP: ``NormalizationKernel``.
enum LayerNormalization {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let axis = try c.axis(c.node.int("axis") ?? -1, rank: max(x.count, 1))
        let inner = Array(x[axis...])
        let scale = try c.shape(1)
        guard Shapes.broadcast(scale, inner) == inner else { throw c.fail("Scale \(scale) does not broadcast to \(inner)") }
        var biasCount = 0
        let table = IndexTable.broadcast(scale, to: inner)
        if c.has(2) {
            let b = try c.shape(2)
            guard b == scale else { throw c.fail("B \(b) and Scale \(scale) differ") }
            biasCount = b.reduce(1, *)
        }
        let k = inner.reduce(1, *), groups = x[..<axis].reduce(1, *)
        var affine = [Int32](repeating: 0, count: groups * k)
        for g in 0..<groups { for i in 0..<k { affine[g * k + i] = table[i] } }
        return NormalizationKernel(groups: groups, k: k, epsilon: c.node.float("epsilon") ?? 1e-5, affine: affine,
                                   scaleCount: scale.reduce(1, *), biasCount: biasCount, shape: x,
                                   statsShape: Array(x[..<axis]) + Array(repeating: 1, count: x.count - axis))
    }
}
