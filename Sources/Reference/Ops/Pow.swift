import Foundation

/// Pow: y = aᵇ with numpy broadcasting (the base's type is the result's; an integer
/// exponent tensor is read as floats). ∂y/∂a = b·a^(b−1); ∂y/∂b = y·ln a for a > 0, and 0
/// for a ≤ 0 (there aᵇ is only defined at integer b, where the exponent has no gradient).
struct PowOp: BinaryFunction {
    static func value(_ a: Float, _ b: Float) -> Float { powf(a, b) }
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float { b == 0 ? 0 : b * powf(a, b - 1) }
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float { a > 0 ? y * logf(a) : 0 }
}
