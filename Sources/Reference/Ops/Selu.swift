import Foundation

/// Selu: y = γ·x for x > 0, γ·α·(eˣ − 1) otherwise (ONNX defaults α ≈ 1.6733, γ ≈ 1.0507).
struct Selu: PointwiseFunction {
    let alpha: Float
    let gamma: Float
    func value(_ x: Float) -> Float { x > 0 ? gamma * x : gamma * alpha * (expf(x) - 1) }
    func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? gamma : gamma * alpha * expf(x) }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        Selu(alpha: c.node.float("alpha") ?? 1.67326319217681884765625,
             gamma: c.node.float("gamma") ?? 1.05070102214813232421875).kernel()
    }
}
