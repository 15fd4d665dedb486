/// Add: y = a + b; ∂y/∂a = ∂y/∂b = 1.
struct AddOp: BinaryFunction {
    static func value(_ a: Float, _ b: Float) -> Float { a + b }
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float { 1 }
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float { 1 }
}
