import Foundation

/// Softplus: y = log(1 + eˣ) (evaluated stably); dy/dx = sigmoid(x).
struct Softplus: PointwiseFunction {
    func value(_ x: Float) -> Float { x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)) }
    func derivative(_ x: Float, _ y: Float) -> Float { Sigmoid().value(x) }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Softplus().kernel() }
}
