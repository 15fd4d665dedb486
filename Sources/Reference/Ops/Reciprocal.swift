/// Reciprocal: y = 1/x; dy/dx = −1/x² = −y².
struct Reciprocal: PointwiseFunction {
    func value(_ x: Float) -> Float { 1 / x }
    func derivative(_ x: Float, _ y: Float) -> Float { -y * y }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Reciprocal().kernel() }
}
