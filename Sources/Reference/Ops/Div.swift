/// Div: y = a/b; ∂y/∂a = 1/b, ∂y/∂b = −a/b². On integer operands the quotient truncates
/// toward zero (C++ integer division, as onnxruntime computes it); a zero divisor gives 0
/// instead of trapping.
struct DivOp: BinaryFunction {
    static func value(_ a: Float, _ b: Float) -> Float { a / b }
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float { 1 / b }
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float { -a / (b * b) }
    static func integer(_ a: Float, _ b: Float) -> Float {
        b == 0 ? 0 : Float((Double(a) / Double(b)).rounded(.towardZero))
    }
}
