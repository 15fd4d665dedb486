/// Neg: y = −x (any numeric type, kept); dy/dx = −1.
struct Neg: PointwiseFunction {
    func value(_ x: Float) -> Float { -x }
    func derivative(_ x: Float, _ y: Float) -> Float { -1 }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Neg().kernel() }
}
