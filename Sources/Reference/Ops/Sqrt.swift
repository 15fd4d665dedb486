import Foundation

/// Sqrt: y = √x (NaN for x < 0, as IEEE); dy/dx = 1/(2y) (∞ at 0).
struct Sqrt: PointwiseFunction {
    func value(_ x: Float) -> Float { x.squareRoot() }
    func derivative(_ x: Float, _ y: Float) -> Float { 0.5 / y }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Sqrt().kernel() }
}
