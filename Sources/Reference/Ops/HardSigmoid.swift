/// HardSigmoid(α = 0.2, β = 0.5): y = clamp(α·x + β, 0, 1); dy/dx = α inside, 0 outside.
struct HardSigmoid: PointwiseFunction {
    let alpha: Float
    let beta: Float
    func value(_ x: Float) -> Float { min(1, max(0, alpha * x + beta)) }
    func derivative(_ x: Float, _ y: Float) -> Float {
        let t = alpha * x + beta
        return t > 0 && t < 1 ? alpha : 0
    }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        HardSigmoid(alpha: c.node.float("alpha") ?? 0.2, beta: c.node.float("beta") ?? 0.5).kernel()
    }
}
