import Foundation

/// Celu(α = 1): y = max(0, x) + min(0, α·(e^(x/α) − 1)); dy/dx = 1 for x > 0, e^(x/α)
/// otherwise (continuous at 0). α = 0 is rejected (the formula divides by it).
struct Celu: PointwiseFunction {
    let alpha: Float
    func value(_ x: Float) -> Float { x > 0 ? x : alpha * (expf(x / alpha) - 1) }
    func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : expf(x / alpha) }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let alpha = c.node.float("alpha") ?? 1
        guard alpha != 0 else { throw c.fail("alpha must not be 0") }
        return Celu(alpha: alpha).kernel()
    }
}
