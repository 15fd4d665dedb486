import Foundation

/// Mod with numpy broadcasting. `fmod = 0` (default; integers only in ONNX): the remainder
/// takes the divisor's sign, r = a − b·⌊a/b⌋ (Python's %); `fmod = 1`: C fmod, the sign of
/// the dividend, r = a − b·trunc(a/b). A zero divisor gives 0 for integers (onnxruntime
/// would trap) and NaN for floats (fmod). ∂r/∂a = 1; ∂r/∂b = −⌊a/b⌋ or −trunc(a/b).
enum Mod {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        switch c.node.int("fmod") ?? 0 {
        case 0: return try BinaryOp<FloorModOp>.make(c)
        case 1: return try BinaryOp<FModOp>.make(c)
        case let f: throw c.fail("fmod must be 0 or 1, got \(f)")
        }
    }
}

/// The remainder with the divisor's sign (Mod, fmod = 0).
struct FloorModOp: BinaryFunction {
    static func value(_ a: Float, _ b: Float) -> Float {
        let r = fmodf(a, b)
        return r != 0 && (r < 0) != (b < 0) ? r + b : r
    }
    static func integer(_ a: Float, _ b: Float) -> Float { b == 0 ? 0 : value(a, b) }
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float { 1 }
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float { -(a / b).rounded(.down) }
}

/// The remainder with the dividend's sign (Mod, fmod = 1).
struct FModOp: BinaryFunction {
    static func value(_ a: Float, _ b: Float) -> Float { fmodf(a, b) }
    static func integer(_ a: Float, _ b: Float) -> Float { b == 0 ? 0 : fmodf(a, b) }
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float { 1 }
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float { -(a / b).rounded(.towardZero) }
}
