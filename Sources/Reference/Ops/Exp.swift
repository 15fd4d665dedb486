import Foundation

/// Exp: y = eˣ; dy/dx = y.
struct Exp: PointwiseFunction {
    func value(_ x: Float) -> Float { expf(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { y }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Exp().kernel() }
}
