import ONNX

/// Size(X): the element count of X as an INT64 scalar. It reads no values: no gradient.
struct Size: Kernel {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Size() }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        return [Value(shape: [], data: [Float(x.count)], dtype: .int64)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] { [nil] }
}
