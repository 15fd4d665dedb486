/// ThresholdedRelu(α = 1): y = x for x > α, else 0 (x = α gives 0); dy/dx = 1 for x > α,
/// else 0.
struct ThresholdedRelu: PointwiseFunction {
    let alpha: Float
    func value(_ x: Float) -> Float { x > alpha ? x : 0 }
    func derivative(_ x: Float, _ y: Float) -> Float { x > alpha ? 1 : 0 }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        ThresholdedRelu(alpha: c.node.float("alpha") ?? 1).kernel()
    }
}
