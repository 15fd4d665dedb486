import Foundation

/// Mish (opset 18): y = x·tanh(softplus(x)), softplus(x) = ln(1 + eˣ) (stable form);
/// dy/dx = tanh(s) + x·(1 − tanh²(s))·σ(x), σ the logistic sigmoid (= d softplus/dx).
struct Mish: PointwiseFunction {
    func value(_ x: Float) -> Float { x * tanhf(Softplus().value(x)) }
    func derivative(_ x: Float, _ y: Float) -> Float {
        let t = tanhf(Softplus().value(x))
        return t + x * (1 - t * t) * Sigmoid().value(x)
    }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Mish().kernel() }
}
