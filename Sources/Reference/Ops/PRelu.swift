/// PRelu: y = x for x ≥ 0, slope·x for x < 0, the slope broadcast to x (unidirectional in
/// ONNX; numpy rules here). ∂y/∂x = 1 or slope; ∂y/∂slope = 0 or x.
struct PReluOp: BinaryFunction {
    static func value(_ a: Float, _ b: Float) -> Float { a < 0 ? b * a : a }
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float { a < 0 ? b : 1 }
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float { a < 0 ? a : 0 }
}
