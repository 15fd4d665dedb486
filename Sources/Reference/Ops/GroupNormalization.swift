import ONNX

/// GroupNormalization(X (N, C, spatial…), scale, bias; num_groups = G, epsilon = 1e-5):
/// the C channels form G groups of C/G; each (n, group) block of (C/G)·spatial elements is
/// normalized. Opset 21 scales and shifts per channel (scale, bias of length C); opset 18's
/// (deprecated) form per group (length G, a group's values shared by its channels — what
/// onnxruntime and opset-18 exports do). The length tells them apart. Math and VJP:
/// ``NormalizationKernel``.
enum GroupNormalization {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard x.count >= 2 else { throw c.fail("needs an (N, C, spatial…) input, got \(x)") }
        guard let groups = c.node.int("num_groups"), groups >= 1, x[1] % groups == 0 else {
            throw c.fail("num_groups must divide the \(x[1]) channels")
        }
        let ch = x[1], spatial = x[2...].reduce(1, *), per = ch / groups
        let count = try c.shape(1).reduce(1, *)
        guard count == ch || count == groups, try c.shape(2).reduce(1, *) == count else {
            throw c.fail("scale and bias must have \(ch) (per channel) or \(groups) (per group) values")
        }
        let k = per * spatial
        var affine = [Int32](repeating: 0, count: x[0] * ch * spatial)
        for b in 0..<(x[0] * groups) {
            for i in 0..<k {
                let channel = (b % groups) * per + i / max(spatial, 1)
                affine[b * k + i] = Int32(count == ch ? channel : b % groups)
            }
        }
        return NormalizationKernel(groups: x[0] * groups, k: k, epsilon: c.node.float("epsilon") ?? 1e-5, affine: affine,
                                   scaleCount: count, biasCount: count, shape: x, statsShape: [x[0], groups])
    }
}
