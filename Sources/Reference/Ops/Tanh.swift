import Foundation

/// Tanh: dy/dx = 1 − y².
struct Tanh: PointwiseFunction {
    func value(_ x: Float) -> Float { tanhf(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { 1 - y * y }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Tanh().kernel() }
}
