/// Relu: y = max(0, x); dy/dx = 1 for x > 0, else 0.
struct Relu: PointwiseFunction {
    func value(_ x: Float) -> Float { x > 0 ? x : 0 }
    func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : 0 }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Relu().kernel() }
}
