import ONNX

/// Equal: y = (a = b) as BOOL (1/0), numpy broadcasting, any numeric operands. Piecewise
/// constant: no gradient (zero cotangents for the operands).
struct EqualOp: BinaryFunction {
    static func value(_ a: Float, _ b: Float) -> Float { a == b ? 1 : 0 }
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float { 0 }
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float { 0 }
    static func resultType(_ a: DataType, _ b: DataType) -> DataType { .bool }
}
