import ONNX

/// And of two BOOL tensors (nonzero = true), numpy broadcasting: y = a ∧ b. No gradient
/// (boolean).
struct AndOp: BinaryFunction {
    static func value(_ a: Float, _ b: Float) -> Float { a != 0 && b != 0 ? 1 : 0 }
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float { 0 }
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float { 0 }
    static func resultType(_ a: DataType, _ b: DataType) -> DataType { .bool }
}
