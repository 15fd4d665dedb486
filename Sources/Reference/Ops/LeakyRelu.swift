/// LeakyRelu(α = 0.01): y = x for x ≥ 0, α·x otherwise.
struct LeakyRelu: PointwiseFunction {
    let alpha: Float
    func value(_ x: Float) -> Float { x >= 0 ? x : alpha * x }
    func derivative(_ x: Float, _ y: Float) -> Float { x >= 0 ? 1 : alpha }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        LeakyRelu(alpha: c.node.float("alpha") ?? 0.01).kernel()
    }
}
