import Foundation

/// Erf: y = erf(x) = (2/√π)∫₀ˣ e^(−t²) dt; dy/dx = (2/√π)·e^(−x²).
struct Erf: PointwiseFunction {
    static let twoOverSqrtPi = Float(2 / Double.pi.squareRoot())
    func value(_ x: Float) -> Float { erff(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { Self.twoOverSqrtPi * expf(-x * x) }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Erf().kernel() }
}
