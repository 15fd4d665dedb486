/// Div: y = a/b; ∂y/∂a = 1/b, ∂y/∂b = −a/b².
struct DivOp: BinaryFunction {
    static func value(_ a: Float, _ b: Float) -> Float { a / b }
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float { 1 / b }
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float { -a / (b * b) }
}
