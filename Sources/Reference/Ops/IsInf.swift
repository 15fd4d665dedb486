import ONNX

/// IsInf(detect_negative = 1, detect_positive = 1): y = (x = −∞ and detect_negative) or
/// (x = +∞ and detect_positive), as BOOL. No gradient (zero cotangent).
struct IsInf: PointwiseFunction {
    let negative: Bool
    let positive: Bool
    func value(_ x: Float) -> Float { x.isInfinite && (x > 0 ? positive : negative) ? 1 : 0 }
    func derivative(_ x: Float, _ y: Float) -> Float { 0 }
    func resultType(_ x: DataType) -> DataType { .bool }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        IsInf(negative: (c.node.int("detect_negative") ?? 1) != 0, positive: (c.node.int("detect_positive") ?? 1) != 0).kernel()
    }
}
