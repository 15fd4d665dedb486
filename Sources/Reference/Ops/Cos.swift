import Foundation

/// Cos: y = cos x; dy/dx = −sin x.
struct Cos: PointwiseFunction {
    func value(_ x: Float) -> Float { cosf(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { -sinf(x) }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Cos().kernel() }
}
