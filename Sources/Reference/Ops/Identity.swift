/// Same values, new shape: the kernel behind Identity, Dropout (inference), Reshape,
/// Flatten, Squeeze and Unsqueeze. The VJP passes the cotangent
/// through unchanged (the element order is the same).
struct ReshapeKernel: Kernel {
    let shape: [Int]

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        return [Value(shape: shape, data: x.data, dtype: x.dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        [a.grad] + Array(repeating: nil, count: max(0, a.inputs.count - 1))
    }
}

/// Identity and Dropout (inference: the identity; the optional mask output is all ones,
/// i.e. every element kept, and carries no gradient).
enum Identity {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        if c.op == "Dropout", c.node.int("training_mode") == 1 {
            throw c.fail("training_mode = 1 is not supported (inference only)")
        }
        let shape = try c.shape(0)
        if c.op == "Dropout", c.node.outputs.count > 1 { return DropoutKernel(shape: shape) }
        return ReshapeKernel(shape: shape)
    }
}

/// Dropout at inference with its mask output requested: y = x, mask = 1.
struct DropoutKernel: Kernel {
    let shape: [Int]

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        return [Value(shape: shape, data: x.data, dtype: x.dtype),
                Value(shape: shape, data: [Float](repeating: 1, count: x.count), dtype: .bool)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        [a.grad] + Array(repeating: nil, count: max(0, a.inputs.count - 1))
    }
}
