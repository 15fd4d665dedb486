import ONNX

/// IsNaN: y = (x is NaN) as BOOL. No gradient (zero cotangent).
struct IsNaN: PointwiseFunction {
    func value(_ x: Float) -> Float { x.isNaN ? 1 : 0 }
    func derivative(_ x: Float, _ y: Float) -> Float { 0 }
    func resultType(_ x: DataType) -> DataType { .bool }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { IsNaN().kernel() }
}
