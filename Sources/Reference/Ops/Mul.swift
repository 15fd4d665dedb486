/// Mul: y = a·b; ∂y/∂a = b, ∂y/∂b = a.
struct MulOp: BinaryFunction {
    static func value(_ a: Float, _ b: Float) -> Float { a * b }
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float { b }
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float { a }
}
