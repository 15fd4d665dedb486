/// Abs: y = |x| (any numeric type, kept); dy/dx = sign(x), 0 at the kink x = 0.
struct Abs: PointwiseFunction {
    func value(_ x: Float) -> Float { abs(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Abs().kernel() }
}
