/// Sub: y = a − b; ∂y/∂a = 1, ∂y/∂b = −1.
struct SubOp: BinaryFunction {
    static func value(_ a: Float, _ b: Float) -> Float { a - b }
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float { 1 }
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float { -1 }
}
