import Foundation

/// Sin: y = sin x; dy/dx = cos x.
struct Sin: PointwiseFunction {
    func value(_ x: Float) -> Float { sinf(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { cosf(x) }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Sin().kernel() }
}
