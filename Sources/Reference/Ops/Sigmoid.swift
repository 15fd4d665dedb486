import Foundation

/// Sigmoid: y = 1/(1 + e⁻ˣ); dy/dx = y·(1 − y).
struct Sigmoid: PointwiseFunction {
    func value(_ x: Float) -> Float { x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x)) }
    func derivative(_ x: Float, _ y: Float) -> Float { y * (1 - y) }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Sigmoid().kernel() }
}
