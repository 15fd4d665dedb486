import ONNX

/// InstanceNormalization(X (N, C, spatial…), scale (C), B (C); epsilon = 1e-5): each
/// (n, c) plane is normalized over its spatial positions, then scaled and shifted by its
/// channel's values. Math and VJP: ``NormalizationKernel``.
enum InstanceNormalization {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard x.count >= 3 else { throw c.fail("needs an (N, C, spatial…) input, got \(x)") }
        let ch = x[1], k = x[2...].reduce(1, *)
        guard try c.shape(1).reduce(1, *) == ch, try c.shape(2).reduce(1, *) == ch else {
            throw c.fail("scale and B must have \(ch) values")
        }
        var affine = [Int32](repeating: 0, count: x[0] * ch * k)
        for p in 0..<(x[0] * ch) { for i in 0..<k { affine[p * k + i] = Int32(p % ch) } }
        return NormalizationKernel(groups: x[0] * ch, k: k, epsilon: c.node.float("epsilon") ?? 1e-5, affine: affine,
                                   scaleCount: ch, biasCount: ch, shape: x, statsShape: [x[0], ch])
    }
}
