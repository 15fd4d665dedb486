import Foundation

/// Gelu (opset 20): exact y = x·Φ(x) = ½x(1 + erf(x/√2)), dy/dx = Φ(x) + x·φ(x);
/// `approximate = "tanh"`: y = ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³),
/// dy/dx = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²).
struct Gelu: PointwiseFunction {
    let tanhApproximation: Bool
    static let c = Float((2.0 / Double.pi).squareRoot())
    static let invSqrt2 = Float(0.5.squareRoot())

    func value(_ x: Float) -> Float {
        if tanhApproximation { return 0.5 * x * (1 + tanhf(Self.c * (x + 0.044715 * x * x * x))) }
        return 0.5 * x * (1 + erff(x * Self.invSqrt2))
    }

    func derivative(_ x: Float, _ y: Float) -> Float {
        if tanhApproximation {
            let t = tanhf(Self.c * (x + 0.044715 * x * x * x))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * Self.c * (1 + 3 * 0.044715 * x * x)
        }
        let phi = expf(-0.5 * x * x) / Float((2 * Double.pi).squareRoot())
        return 0.5 * (1 + erff(x * Self.invSqrt2)) + x * phi
    }

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        switch c.node.string("approximate") ?? "none" {
        case "none": return Gelu(tanhApproximation: false).kernel()
        case "tanh": return Gelu(tanhApproximation: true).kernel()
        case let other: throw c.fail("unknown approximate '\(other)'")
        }
    }
}
