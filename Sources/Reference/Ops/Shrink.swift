/// Shrink(lambd = 0.5, bias = 0): y = x + bias for x < −λ, x − bias for x > λ, 0 between
/// (type kept); dy/dx = 1 outside [−λ, λ], 0 inside.
struct Shrink: PointwiseFunction {
    let lambd: Float
    let bias: Float
    func value(_ x: Float) -> Float { x < -lambd ? x + bias : (x > lambd ? x - bias : 0) }
    func derivative(_ x: Float, _ y: Float) -> Float { x < -lambd || x > lambd ? 1 : 0 }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        Shrink(lambd: c.node.float("lambd") ?? 0.5, bias: c.node.float("bias") ?? 0).kernel()
    }
}
