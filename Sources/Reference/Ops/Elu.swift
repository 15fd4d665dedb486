import Foundation

/// Elu(α = 1): y = x for x > 0, α·(eˣ − 1) otherwise; dy/dx = 1 or α·eˣ = y + α.
struct Elu: PointwiseFunction {
    let alpha: Float
    func value(_ x: Float) -> Float { x > 0 ? x : alpha * (expf(x) - 1) }
    func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : alpha * expf(x) }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        Elu(alpha: c.node.float("alpha") ?? 1).kernel()
    }
}
